// Progressive enhancement only: without this file the form's "Vorschau" button renders the
// preview on the server. With it, the preview follows the text while the editor types.
// The server renders and sanitizes the Markdown (the same renderer as the public site), so
// the HTML it returns is safe to insert.
(function () {
  "use strict";
  var DELAY_MS = 400;

  function enhance(editor) {
    var textarea = editor.querySelector("textarea");
    var target = editor.querySelector("[data-markdown-preview]");
    var section = editor.querySelector("[data-markdown-preview-section]");
    var url = editor.getAttribute("data-preview-url");
    if (!textarea || !target || !section || !url || !window.fetch || !window.FormData) {
      return;
    }
    var token = textarea.form ? textarea.form.querySelector("input[name=csrf_token]") : null;
    var timer = null;
    var latest = 0;

    function update() {
      var body = new FormData();
      body.append("body", textarea.value);
      if (token) {
        body.append("csrf_token", token.value);
      }
      var request = ++latest;
      fetch(url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("preview failed: " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          // An older answer that arrives late must not overwrite a newer one.
          if (request === latest) {
            target.innerHTML = html;
            section.hidden = false;
          }
        })
        .catch(function () {
          // The "Vorschau" button still works; nothing to do here.
        });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, DELAY_MS);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-markdown-editor]"), enhance);
})();
