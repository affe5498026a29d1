// Shows and hides parts of a form step whose show_if depends on another field of the same
// step, as the citizen answers. Progressive enhancement only: without this script every
// part is shown and the server ignores the answers of parts whose condition is false.
//
// A part carries data-show-if='{"field": "...", "operator": "equals|one_of|is_true|is_false",
// "values": [...]}' (rendered by templates/submissions/flow/step.html); the semantics are
// those of app.formspec's Condition.matches.
(function () {
  "use strict";

  function answerOf(form, name) {
    var inputs = Array.prototype.filter.call(form.elements, function (el) {
      // An answer in a hidden part counts as no answer, so conditions chain as on the server.
      return el.name === name && !el.disabled && !el.closest("[hidden]");
    });
    if (!inputs.length) {
      return null;
    }
    var first = inputs[0];
    if (first.type === "checkbox") {
      var checked = inputs.filter(function (el) { return el.checked; });
      if (inputs.length === 1) {
        return checked.length === 1;
      }
      return checked.length ? checked.map(function (el) { return el.value; }) : null;
    }
    if (first.type === "radio") {
      var chosen = inputs.filter(function (el) { return el.checked; });
      return chosen.length ? chosen[0].value : null;
    }
    return first.value === "" ? null : first.value;
  }

  function matches(condition, answer) {
    if (condition.operator === "is_true") {
      return answer === true;
    }
    if (condition.operator === "is_false") {
      return answer !== true;
    }
    if (answer === null || answer === false || answer === true) {
      return false;
    }
    var chosen = Array.isArray(answer) ? answer : [answer];
    return chosen.some(function (value) {
      return condition.values.indexOf(String(value)) !== -1;
    });
  }

  // Parts are in document order and conditions refer to earlier fields, so one pass suffices.
  function update(form, parts) {
    parts.forEach(function (part) {
      var shown = matches(part.condition, answerOf(form, part.condition.field));
      part.element.hidden = !shown;
    });
  }

  function enhance(form) {
    var parts = [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-show-if]"), function (element) {
      try {
        parts.push({ element: element, condition: JSON.parse(element.getAttribute("data-show-if")) });
      } catch (error) {
        // A part whose condition cannot be read stays visible, as without the script.
      }
    });
    if (!parts.length) {
      return;
    }
    var refresh = function () { update(form, parts); };
    form.addEventListener("change", refresh);
    form.addEventListener("input", refresh);
    refresh();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-conditions]"), enhance);
})();
