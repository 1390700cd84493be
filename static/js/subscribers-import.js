// Import progress page: poll the JSON endpoint and update the bar and counts in place.
// Without JavaScript the page still shows the state it was rendered with (reload it).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "1") return;
  var bar = document.getElementById("import-bar");
  box.classList.add("js-live");

  function show(data) {
    bar.max = Math.max(data.total, 1);
    bar.value = data.processed;
    bar.textContent = data.processed + " / " + data.total;
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.dataset.field];
      if (value !== undefined) el.textContent = value;
    });
  }

  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        // Once finished, reload so the server renders the rejected rows and the download.
        if (data.finished) window.location.reload();
        else window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // a failed poll is retried, more slowly
      });
  }

  window.setTimeout(poll, 500);
})();
