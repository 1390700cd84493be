/* The issue editor in the admin: a Markdown toolbar on the plain textarea, a live preview
 * of the real mail (rendered by the server), image upload, and autosave of drafts.
 * No library, no bundler; the strict CSP allows this file and nothing inline. */
(function () {
  "use strict";

  var PREVIEW_DELAY_MS = 700;
  var AUTOSAVE_EVERY_MS = 20000;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function firstError(json) {
    if (!json) return "";
    if (json.error) return json.error;
    var errors = json.errors || {};
    var messages = [];
    Object.keys(errors).forEach(function (field) {
      errors[field].forEach(function (error) {
        messages.push((field === "__all__" ? "" : field + ": ") + error.message);
      });
    });
    return messages.join(" ");
  }

  function post(url, form, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "fetch" },
    }).then(function (response) {
      return response.json().then(
        function (json) { return { ok: response.ok, json: json }; },
        function () { return { ok: false, json: { error: response.status + " " + response.statusText } }; }
      );
    });
  }

  /* --- text editing helpers ------------------------------------------------------- */
  function replaceSelection(textarea, before, after, fallback) {
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    var selected = textarea.value.slice(start, end) || fallback || "";
    var insert = before + selected + (after || "");
    textarea.setRangeText(insert, start, end, "end");
    textarea.selectionStart = start + before.length;
    textarea.selectionEnd = start + before.length + selected.length;
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function prefixLines(textarea, prefix) {
    var value = textarea.value;
    var start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
    var end = textarea.selectionEnd;
    var block = value.slice(start, end) || "";
    var prefixed = block.split("\n").map(function (line) { return prefix + line; }).join("\n");
    textarea.setRangeText(prefixed, start, end, "end");
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertBlock(textarea, text) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var gap = before === "" || before.slice(-2) === "\n\n" ? "" : before.slice(-1) === "\n" ? "\n" : "\n\n";
    textarea.setRangeText(gap + text + "\n\n", textarea.selectionStart, textarea.selectionEnd, "end");
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /* --- the editor ----------------------------------------------------------------- */
  function Editor(textarea, panel, strings) {
    this.textarea = textarea;
    this.panel = panel;
    this.form = textarea.form;
    this.strings = strings;
    this.status = panel.querySelector(".rb-status");
    this.previewTimer = null;
    this.previewRequest = 0;
    this.dirty = false;
    this.layout();
    this.buildToolbar();
    this.bindTabs();
    this.bindPreview();
    this.bindUpload();
    this.bindAutosave();
    this.preview();
  }

  Editor.prototype.say = function (message, isError) {
    this.status.textContent = message;
    this.status.classList.toggle("rb-status-error", !!isError);
  };

  /* Put the textarea's form row and the preview side by side. */
  Editor.prototype.layout = function () {
    var row = this.textarea.closest(".form-row") || this.textarea.parentNode;
    var workspace = document.createElement("div");
    workspace.className = "rb-workspace";
    row.parentNode.insertBefore(workspace, row);
    workspace.appendChild(row);
    workspace.appendChild(this.panel);
  };

  Editor.prototype.buildToolbar = function () {
    var self = this;
    var t = this.textarea;
    var s = this.strings;
    var actions = [
      ["bold", "B", function () { replaceSelection(t, "**", "**", s.bold); }],
      ["italic", "I", function () { replaceSelection(t, "_", "_", s.italic); }],
      ["heading", "H", function () { prefixLines(t, "## "); }],
      ["link", "Link", function () {
        var url = window.prompt(s.linkPrompt, "https://");
        if (url) replaceSelection(t, "[", "](" + url + ")", s.link);
      }],
      ["list", "•", function () { prefixLines(t, "- "); }],
      ["quote", "❝", function () { prefixLines(t, "> "); }],
      ["code", "</>", function () { replaceSelection(t, "`", "`", "code"); }],
      ["image", "Image", function () { self.fileInput.click(); }],
      ["video", "▶", function () {
        var url = window.prompt(s.videoPrompt, "https://www.youtube.com/watch?v=");
        if (url) insertBlock(t, url);
      }],
      ["placeholder", "{{ }}", function () { replaceSelection(t, '{{ name | default: "', '" }}', "there"); }],
    ];
    var bar = document.createElement("div");
    bar.className = "rb-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-controls", t.id);
    actions.forEach(function (action) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "rb-tool rb-tool-" + action[0];
      button.textContent = action[1];
      button.title = s[action[0]] || action[0];
      button.setAttribute("aria-label", s[action[0]] || action[0]);
      button.addEventListener("click", action[2]);
      bar.appendChild(button);
    });
    t.parentNode.insertBefore(bar, t);
    t.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey)) return;
      if (event.key === "b") { event.preventDefault(); replaceSelection(t, "**", "**", s.bold); }
      if (event.key === "i") { event.preventDefault(); replaceSelection(t, "_", "_", s.italic); }
      if (event.key === "k") { event.preventDefault(); actions[3][2](); }
    });
  };

  Editor.prototype.bindTabs = function () {
    var panel = this.panel;
    var tabs = panel.querySelectorAll(".rb-tab");
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        tabs.forEach(function (other) { other.setAttribute("aria-selected", String(other === tab)); });
        panel.querySelectorAll(".rb-views [data-view]").forEach(function (view) {
          view.hidden = view.dataset.view !== tab.dataset.view;
        });
      });
    });
  };

  /* --- live preview --------------------------------------------------------------- */
  Editor.prototype.bindPreview = function () {
    var self = this;
    var watched = [
      "id_subject", "id_preview_text", "id_newsletter", "rb-preview-reader", this.textarea.id
    ];
    watched.forEach(function (id) {
      var field = document.getElementById(id);
      if (!field) return;
      ["input", "change"].forEach(function (type) {
        field.addEventListener(type, function () {
          self.dirty = true;
          window.clearTimeout(self.previewTimer);
          self.previewTimer = window.setTimeout(function () { self.preview(); }, PREVIEW_DELAY_MS);
        });
      });
    });
  };

  Editor.prototype.formData = function () {
    var data = new FormData(this.form);
    if (this.panel.dataset.objectId) data.set("object_id", this.panel.dataset.objectId);
    return data;
  };

  Editor.prototype.preview = function () {
    var self = this;
    var newsletter = document.getElementById("id_newsletter");
    if (newsletter && !newsletter.value) return;
    var request = ++this.previewRequest;
    post(this.panel.dataset.previewUrl, this.form, this.formData()).then(function (result) {
      if (request !== self.previewRequest) return; // a newer preview is on its way
      if (!result.ok) {
        self.say(self.strings.previewFailed + " " + firstError(result.json), true);
        return;
      }
      self.panel.querySelectorAll("iframe.rb-frame").forEach(function (frame) {
        frame.src = result.json.html_url;
      });
      self.panel.querySelector(".rb-text").textContent = result.json.text;
      self.panel.querySelector(".rb-subject").textContent = result.json.subject;
      self.showWarnings(result.json.warnings || []);
      self.say("");
    }).catch(function (error) { self.say(self.strings.previewFailed + " " + error, true); });
  };

  /* Warnings do not stop a save: an unknown custom field, a reader not on the list. */
  Editor.prototype.showWarnings = function (warnings) {
    var list = this.panel.querySelector(".rb-warnings");
    if (!list) return;
    list.textContent = "";
    warnings.forEach(function (warning) {
      var item = document.createElement("li");
      item.textContent = warning;
      list.appendChild(item);
    });
    list.hidden = warnings.length === 0;
  };

  /* --- image upload: button, drag and drop, paste ----------------------------------- */
  Editor.prototype.bindUpload = function () {
    var self = this;
    this.fileInput = document.getElementById("rb-upload-input");
    this.fileInput.addEventListener("change", function () {
      Array.prototype.forEach.call(self.fileInput.files, function (file) { self.upload(file); });
      self.fileInput.value = "";
    });
    this.textarea.addEventListener("dragover", function (event) { event.preventDefault(); });
    this.textarea.addEventListener("drop", function (event) {
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      event.preventDefault();
      Array.prototype.forEach.call(files, function (file) { self.upload(file); });
    });
    this.textarea.addEventListener("paste", function (event) {
      var items = (event.clipboardData && event.clipboardData.files) || [];
      if (!items.length) return;
      event.preventDefault();
      Array.prototype.forEach.call(items, function (file) { self.upload(file); });
    });
  };

  Editor.prototype.upload = function (file) {
    var self = this;
    var data = new FormData();
    data.append("file", file);
    this.say(this.strings.uploading);
    post(this.panel.dataset.uploadUrl, this.form, data).then(function (result) {
      if (!result.ok) {
        self.say(self.strings.uploadFailed + " " + firstError(result.json), true);
        return;
      }
      insertBlock(self.textarea, result.json.markdown);
      self.say("");
    }).catch(function (error) { self.say(self.strings.uploadFailed + " " + error, true); });
  };

  /* --- autosave of drafts ----------------------------------------------------------- */
  Editor.prototype.bindAutosave = function () {
    var self = this;
    var url = this.panel.dataset.autosaveUrl;
    if (!url) return;
    this.form.addEventListener("submit", function () { self.dirty = false; });
    window.setInterval(function () {
      if (!self.dirty) return;
      self.dirty = false;
      self.say(self.strings.saving);
      post(url, self.form, self.formData()).then(function (result) {
        if (!result.ok) {
          self.dirty = true;
          self.say(self.strings.autosaveFailed + " " + firstError(result.json), true);
          return;
        }
        // The slug may have followed the subject: keep the form in step, or the next
        // save would send the old slug back as if the author had typed it.
        var slug = document.getElementById("id_slug");
        if (slug && result.json.slug) slug.value = result.json.slug;
        self.say(result.json.message);
      }).catch(function (error) {
        self.dirty = true;
        self.say(self.strings.autosaveFailed + " " + error, true);
      });
    }, AUTOSAVE_EVERY_MS);
  };

  ready(function () {
    var textarea = document.querySelector("textarea.rb-editor");
    var panel = document.getElementById("rb-preview");
    var strings = document.getElementById("rb-editor-strings");
    if (!textarea || !panel || !strings) return;
    window.rundbriefEditor = new Editor(textarea, panel, strings.dataset);
  });
})();
