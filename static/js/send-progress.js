// Live progress of a send on the issue page: polls the admin's JSON endpoint every 2 s
// while the issue is sending or paused. It also keeps the issue's status, recipients,
// schedule and buttons beside the panel in step, so the page never shows a state the send
// has left. Loaded as a file (strict CSP: no inline script).
(function () {
  "use strict";
  var panel = document.getElementById("rb-send-progress");
  if (!panel) return;
  var strings = document.getElementById("rb-progress-strings").dataset;
  var field = function (name) { return panel.querySelector('[data-field="' + name + '"]'); };

  function fillList(list, items) {
    list.textContent = "";
    if (!items.length) items = [strings.none];
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
  }

  // Why the send stands still and when it goes on; the texts come translated.
  function showWaiting(items) {
    var list = field("waiting");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.dataset.reason = item.reason;
      li.textContent = item.text;
      list.appendChild(li);
    });
    field("waiting-box").hidden = !items.length;
  }

  // The issue's own fields (read-only in the form) and which buttons fit the state now.
  function showIssue(issue) {
    if (!issue) return;
    var values = { status: issue.status_label, recipients: issue.recipients, scheduled_at: issue.scheduled_at };
    Object.keys(values).forEach(function (name) {
      document.querySelectorAll('[data-sending-field="' + name + '"]').forEach(function (node) {
        node.textContent = values[name];
      });
    });
    Object.keys(issue.buttons).forEach(function (name) {
      document.querySelectorAll('[data-sending-button="' + name + '"]').forEach(function (node) {
        node.hidden = !issue.buttons[name];
      });
    });
  }

  function show(data) {
    showIssue(data.issue);
    field("status").textContent = data.status_label || data.status;
    field("sent").textContent = data.sent;
    field("total").textContent = data.total;
    field("failed").textContent = data.counts.failed;
    field("retrying").textContent = data.counts.retrying;
    field("skipped").textContent = data.counts.skipped;
    field("rate").textContent = data.rate_per_second;
    field("rate-basis").textContent = data.rate_basis;
    field("eta").textContent = data.eta_seconds ? data.eta_seconds + " s" : "—";
    field("breaker").textContent = data.breaker.label;
    showWaiting(data.waiting);
    field("bar").max = data.total || 1;
    field("bar").value = data.sent;
    fillList(field("failures"), data.failures.map(function (f) { return f.count + " × " + f.reason; }));
    fillList(field("providers"), Object.keys(data.provider_errors).map(function (name) {
      return name + ": " + data.provider_errors[name];
    }));
    return data.status;
  }

  // While a send runs, every 2 s; while it waits for its start (a worker picks it up, or
  // its scheduled time comes), every 5 s; once sent or cancelled, no more.
  var DELAYS = { sending: 2000, paused: 2000, scheduled: 5000 };

  function poll() {
    fetch(panel.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var delay = DELAYS[show(data)];
        if (delay) setTimeout(poll, delay);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
