/* The entry form, enhanced: show only the fields the chosen activity records, and turn
   the households list into a search-as-you-type picker. Without JavaScript the form
   still works: every field shows and households is a plain multiple select. */
(function () {
  "use strict";
  var form = document.querySelector("form.entry-form");
  if (!form) { return; }
  var measuresByActivity = JSON.parse(document.getElementById("activity-measures").textContent);
  var activity = form.querySelector("[name=activity]");

  function showMeasures() {
    var used = (measuresByActivity[activity.value] || "").split(" ");
    form.querySelectorAll("[data-measure]").forEach(function (field) {
      var keep = !activity.value || used.indexOf(field.dataset.measure) !== -1;
      field.hidden = !keep;
    });
  }
  activity.addEventListener("change", showMeasures);
  showMeasures();

  var select = form.querySelector("select[name=households]");
  var box = form.querySelector(".field-households");
  if (!select || !box) { return; }
  var search = box.querySelector(".household-search");
  var results = box.querySelector(".household-results");
  var chosen = box.querySelector(".household-chosen");
  var MAX_RESULTS = 30;
  select.hidden = true;
  search.classList.remove("d-none");

  function renderChosen() {
    chosen.textContent = "";
    Array.prototype.forEach.call(select.selectedOptions, function (option) {
      var chip = document.createElement("button");
      chip.type = "button";
      chip.className = "btn btn-sm btn-secondary me-1 mb-1 household-chip";
      chip.textContent = option.textContent + " ×";
      chip.addEventListener("click", function () { option.selected = false; renderChosen(); renderResults(); });
      chosen.appendChild(chip);
    });
  }

  function renderResults() {
    results.textContent = "";
    var query = search.value.trim().toLowerCase();
    if (!query) { return; }
    var shown = 0;
    Array.prototype.some.call(select.options, function (option) {
      var text = option.textContent.toLowerCase();
      var number = text.split(" · ")[0];
      if (option.selected || (number.indexOf(query) !== 0 && text.indexOf(query) === -1)) { return false; }
      var item = document.createElement("button");
      item.type = "button";
      item.className = "list-group-item list-group-item-action household-option";
      item.textContent = option.textContent;
      item.addEventListener("click", function () {
        option.selected = true; search.value = ""; renderChosen(); renderResults(); search.focus();
      });
      results.appendChild(item);
      shown += 1;
      return shown >= MAX_RESULTS;
    });
  }

  search.addEventListener("input", renderResults);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var first = results.querySelector("button");
      if (first) { first.click(); }
    }
  });
  renderChosen();
}());
