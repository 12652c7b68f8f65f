// The HTML report's script (src/report/html.rs): the page filter (all / failed / with
// images), and every <details> opened for print. Without it, every page is shown.
(function () {
  "use strict";
  var filter = document.querySelector(".filter");
  var status = document.getElementById("filter-status");
  var filterable = document.querySelectorAll("[data-filterable]");
  var sections = document.querySelectorAll("section.page");

  function shows(element, choice) {
    if (choice === "failed") return element.dataset.failed === "true";
    if (choice === "images") return element.dataset.images === "true";
    return true;
  }

  function apply(choice) {
    filterable.forEach(function (element) {
      element.hidden = !shows(element, choice);
    });
    var shown = 0;
    sections.forEach(function (section) {
      if (!section.hidden) shown += 1;
    });
    status.textContent = choice === "all"
      ? ""
      : "Showing " + shown + " of " + sections.length + " pages.";
  }

  if (filter) {
    filter.hidden = false;
    filter.addEventListener("change", function (event) {
      if (event.target.name === "filter") apply(event.target.value);
    });
    var checked = filter.querySelector("input:checked");
    if (checked) apply(checked.value);
  }

  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
})();
