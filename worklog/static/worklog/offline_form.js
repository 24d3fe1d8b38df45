/* The entry form with no connection (issue 13, point 1). Loaded before entry_form.js, so
   that what it fills in (an outbox entry opened again, the date and activity carried over)
   is what the household picker and the measures start from.

   - Saved while offline, or an outbox entry saved again: the entry goes to the outbox
     under the form's uuid; "save" then shows the outbox, "save and add another" a new form
     with the same date and activity.
   - Saved online: the entry is noted for this tab, so that when the network fails on the
     way the service worker's answer (the form with `?unsent=1`) puts it in the outbox.
   - A kept page carries the uuid it was rendered with: once that uuid is used, the page
     makes a new one on the phone. A form reached by Back or reload keeps the uuid of its
     history entry, as entry_form.js keeps it online. */
(function () {
  "use strict";
  var form = document.querySelector("form.entry-form");
  var uuidInput = form && form.querySelector("input[name=uuid]");
  var Outbox = window.WorklogOutbox;
  // Editing a saved entry needs the server; so does a page outside a secure context.
  if (!uuidInput || !Outbox.user || !window.isSecureContext) { return; }
  var own = document.currentScript.dataset;
  var codes = JSON.parse(own.activityCodes);
  var params = new URLSearchParams(location.search);
  var UNSENT = "worklog.unsent";
  var EDITING = "worklog.editing";
  var USED = "worklog.usedUuids";
  var USED_KEPT = 500;

  function usedUuids() {
    try { return JSON.parse(localStorage.getItem(USED) || "[]"); } catch (error) { return []; }
  }

  function markUsed(uuid) {
    var used = usedUuids().filter(function (other) { return other !== uuid; });
    used.push(uuid);
    try { localStorage.setItem(USED, JSON.stringify(used.slice(-USED_KEPT))); } catch (error) { /* full */ }
  }

  function setUuid(value) {
    uuidInput.value = value;
    history.replaceState(Object.assign({}, history.state, { entryUuid: value }), "");
  }

  function setValue(name, value) {
    var field = form.elements[name];
    if (field && value !== undefined && value !== null) { field.value = String(value); }
  }

  /* A note left in this tab (by the outbox page, or by this page before a post that
     failed), read once; only its own user's. */
  function taken(key) {
    var text = sessionStorage.getItem(key);
    sessionStorage.removeItem(key);
    var note = text ? JSON.parse(text) : null;
    return note && note.user === Outbox.user ? note : null;
  }

  function tell(text, kind) {
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (kind || "warning") + " offline-note";
    alert.setAttribute("role", "status");
    alert.textContent = text;
    form.parentNode.insertBefore(alert, form);
  }

  function fill(record) {
    var entry = record.entry;
    setValue("date", entry.date);
    setValue("activity", record.activityId);
    setValue("team", entry.team);
    ["participants", "sessions", "quantity", "funds", "title", "notes"].forEach(function (name) {
      setValue(name, entry[name]);
    });
    var select = form.elements.households;
    if (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        option.selected = entry.households.indexOf(Number(option.value)) !== -1;
      });
    }
    setUuid(record.uuid);
  }

  function chosenText(select) {
    return select && select.selectedOptions[0] ? select.selectedOptions[0].textContent : "";
  }

  function count(name) {
    var value = (form.elements[name] ? form.elements[name].value : "").trim();
    return /^\d+$/.test(value) ? Number(value) : value || 0;  // anything else: the server says why
  }

  function recordFromForm() {
    var elements = form.elements;
    var households = elements.households ? Array.prototype.slice.call(elements.households.selectedOptions) : [];
    var entry = {
      uuid: uuidInput.value,
      date: elements.date.value,
      activity: codes[elements.activity.value] || "",
      households: households.map(function (option) { return Number(option.value); }),
      participants: count("participants"),
      sessions: count("sessions"),
      quantity: count("quantity"),
      funds: (elements.funds ? elements.funds.value.trim() : "") || "0",
      title: elements.title ? elements.title.value : "",
      notes: elements.notes ? elements.notes.value : "",
    };
    if (elements.team) { entry.team = elements.team.value ? Number(elements.team.value) : null; }
    return {
      uuid: entry.uuid,
      savedAt: Date.now(),
      entry: entry,
      activityId: elements.activity.value,
      shown: {
        activity: chosenText(elements.activity),
        households: households.map(function (option) { return option.textContent; }),
        team: chosenText(elements.team),
      },
    };
  }

  function queue(record, next) {
    markUsed(record.uuid);
    return Outbox.put(record).then(function () {
      if (next !== "add") {
        location.assign(document.body.dataset.outboxUrl);
        return;
      }
      // The uuid makes each new form's address its own: a browser reloads an address it is
      // already on, and would keep the saved form's uuid in the history entry.
      var query = new URLSearchParams({ queued: record.uuid, date: record.entry.date, activity: record.entry.activity });
      if (record.entry.team) { query.set("team", record.entry.team); }
      location.assign(form.action + "?" + query);
    });
  }

  // What the page opens with, before entry_form.js reads the fields.
  var editing = params.has("outbox") ? taken(EDITING) : null;
  if (editing && editing.record.uuid !== params.get("outbox")) { editing = null; }
  if (editing) {
    fill(editing.record);
    tell(own.editing, "info");
  } else {
    if (params.has("queued")) {  // the kept page cannot take them from its address as the server does
      setValue("date", params.get("date"));
      var carried = Object.keys(codes).filter(function (id) { return codes[id] === params.get("activity"); });
      setValue("activity", carried[0]);
      setValue("team", params.get("team"));
      tell(own.queued);
    }
    var state = history.state || {};
    if (state.entryUuid) {  // Back or reload: the form it was (as entry_form.js keeps it)
      uuidInput.value = state.entryUuid;
    } else if (usedUuids().indexOf(uuidInput.value) !== -1) {
      setUuid(crypto.randomUUID());
    }
  }
  var unsent = taken(UNSENT);
  if (unsent && params.has("unsent")) { queue(unsent.record, unsent.next); }

  form.addEventListener("submit", function (event) {
    var next = event.submitter && event.submitter.value === "add" ? "add" : "detail";
    var record = recordFromForm();
    if (editing || !navigator.onLine) {
      event.preventDefault();
      if (!record.entry.date || !record.entry.activity) {
        tell(own.incomplete, "danger");
        return;
      }
      queue(record, editing ? "detail" : next);
      return;
    }
    markUsed(record.uuid);
    sessionStorage.setItem(UNSENT, JSON.stringify({ user: Outbox.user, record: record, next: next }));
  });
}());
