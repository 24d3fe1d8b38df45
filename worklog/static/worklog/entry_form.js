/* The entry form, enhanced: keep the form's uuid through Back and reload, show only the
   fields the chosen activity records, and turn the households list into a
   search-as-you-type picker. Without JavaScript the form still works: every field shows
   and households is a plain multiple select. */
(function () {
  "use strict";
  var form = document.querySelector("form.entry-form");
  if (!form) { return; }

  /* The uuid makes a second save of the same form a no-op on the server. The server gives
     each page it renders a new one, and the browser asks for the page again on Back (pages
     are not stored) or reload, so the uuid is kept in the history entry: Back to a saved
     form, save again, and the server answers that it was already saved. A form reached by
     a link or by "save and add another" is a new history entry, hence a new entry. */
  var uuid = form.querySelector("input[name=uuid]");
  if (uuid) {
    var state = history.state || {};
    if (state.entryUuid) {
      uuid.value = state.entryUuid;
    } else {
      history.replaceState(Object.assign({}, state, { entryUuid: uuid.value }), "");
    }
  }

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
  /* On Back the browser refills the fields it remembers, after this script has run: show
     what they hold once the page is shown. */
  window.addEventListener("pageshow", showMeasures);

  var select = form.querySelector("select[name=households]");
  var box = form.querySelector(".field-households");
  if (!select || !box) { return; }
  var search = box.querySelector(".household-search");
  var results = box.querySelector(".household-results");
  var chosen = box.querySelector(".household-chosen");
  var MAX_RESULTS = 30;
  var enterTakes = null;  // the option Enter chooses, if any
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

  function choose(option) {
    option.selected = true; search.value = ""; renderChosen(); renderResults(); search.focus();
  }

  /* Options read "number · head of household[ · village]" (worklog/forms.py). */
  function houseNumber(option) {
    return option.textContent.split(" · ")[0].toLowerCase();
  }

  /* As the server sorts them (teams' by_house_number): shorter numbers first, then as
     text, so "12", "120", "121" and never "112" before "12". */
  function byHouseNumber(a, b) {
    var x = a.number, y = b.number;
    if (x.length !== y.length) { return x.length - y.length; }
    if (x !== y) { return x < y ? -1 : 1; }
    return a.index - b.index;
  }

  /* The households matching the query: the house number itself, then the numbers that
     start with it in numeric order, then those whose name (or village) holds it, in the
     list's order. Enter takes the first only when it is the one exact number, or when it is
     all there is: never a longer number than the one typed. */
  function matches(query) {
    var exact = [], numbers = [], names = [];
    Array.prototype.forEach.call(select.options, function (option, index) {
      var number = houseNumber(option);
      var rest = option.textContent.slice(number.length).toLowerCase();
      var match = { option: option, number: number, index: index };
      if (number === query) { exact.push(match); }
      else if (option.selected) { return; }
      else if (number.indexOf(query) === 0) { numbers.push(match); }
      else if (rest.indexOf(query) !== -1) { names.push(match); }
    });
    numbers.sort(byHouseNumber);
    var exactFree = exact.filter(function (match) { return !match.option.selected; });
    var listed = exactFree.concat(numbers, names).slice(0, MAX_RESULTS);
    var onlyOne = exact.length === 0 && listed.length === 1;
    var taken = (exact.length === 1 && exactFree.length === 1) || onlyOne ? listed[0] : null;
    return { listed: listed, taken: taken };
  }

  function renderResults() {
    results.textContent = "";
    enterTakes = null;
    var query = search.value.trim().toLowerCase();
    if (!query) { return; }
    var found = matches(query);
    found.listed.forEach(function (match) {
      var item = document.createElement("button");
      item.type = "button";
      item.className = "list-group-item list-group-item-action household-option";
      if (match === found.taken) { item.classList.add("active"); }
      item.textContent = match.option.textContent;
      item.addEventListener("click", function () { choose(match.option); });
      results.appendChild(item);
    });
    enterTakes = found.taken && found.taken.option;
  }

  search.addEventListener("input", renderResults);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      if (enterTakes) { choose(enterTakes); }
    }
  });
  renderChosen();
  window.addEventListener("pageshow", renderChosen);
}());
