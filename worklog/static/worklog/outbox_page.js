/* The outbox page: the entries waiting on this phone, "sync now", and what became of
   each entry sent: saved, already saved, filed as an amendment, or refused (it stays,
   with the reasons, to be opened in the form again or deleted). */
(function () {
  "use strict";
  var page = document.querySelector(".outbox-page");
  var Outbox = window.WorklogOutbox;
  if (!page || !Outbox.user) { return; }
  var text = page.dataset;
  var list = page.querySelector(".outbox-list");
  var empty = page.querySelector(".outbox-empty");
  var sent = page.querySelector(".outbox-sent");
  var button = page.querySelector(".sync-now");
  var offlineNote = page.querySelector(".sync-offline");
  var syncing = false;

  function element(tag, className, content) {
    var node = document.createElement(tag);
    node.className = className;
    if (content) { node.textContent = content; }
    return node;
  }

  function heading(entry, shown) {
    return [entry.date, shown.activity, entry.title].filter(Boolean).join(" · ");
  }

  function details(entry, shown) {
    return [shown.team].concat(shown.households).filter(Boolean).join("、");
  }

  function edit(record) {
    sessionStorage.setItem("worklog.editing", JSON.stringify({ user: Outbox.user, record: record }));
    location.assign(text.formUrl + "?outbox=" + encodeURIComponent(record.uuid));
  }

  function item(record) {
    var row = element("li", "list-group-item outbox-entry");
    row.appendChild(element("div", "fw-semibold", heading(record.entry, record.shown)));
    var more = details(record.entry, record.shown);
    if (more) { row.appendChild(element("div", "small text-body-secondary", more)); }
    if (record.refused) {
      row.appendChild(element("span", "badge text-bg-danger", text.refused));
      var reasons = element("ul", "small text-danger mb-1 outbox-reasons");
      Object.keys(record.refused).forEach(function (field) {
        record.refused[field].forEach(function (message) { reasons.appendChild(element("li", "", message)); });
      });
      row.appendChild(reasons);
    } else {
      row.appendChild(element("span", "badge text-bg-warning", text.waiting));
    }
    var actions = element("div", "d-flex gap-2 mt-2");
    var editButton = element("button", "btn btn-sm btn-outline-primary", text.edit);
    editButton.type = "button";
    editButton.addEventListener("click", function () { edit(record); });
    var deleteButton = element("button", "btn btn-sm btn-outline-danger", text.delete);
    deleteButton.type = "button";
    deleteButton.addEventListener("click", function () {
      if (deleteButton.dataset.armed) {
        Outbox.remove(record.uuid);
      } else {  // a second tap deletes: the entry exists nowhere else
        deleteButton.dataset.armed = "true";
        deleteButton.textContent = text.confirm;
      }
    });
    actions.appendChild(editButton);
    actions.appendChild(deleteButton);
    row.appendChild(actions);
    return row;
  }

  function showButton() {
    button.disabled = syncing || !navigator.onLine;
    offlineNote.hidden = navigator.onLine;
  }

  function render() {
    Outbox.list().then(function (records) {
      list.textContent = "";
      records.forEach(function (record) { list.appendChild(item(record)); });
      empty.hidden = records.length > 0;
    });
  }

  /* The saved entry, or the amendments (where a coordinator decides the filed one). */
  function link(result) {
    var anchor = element("a", "ms-2", text.open);
    if (result.status === "amendment") {
      anchor.href = text.amendmentsUrl;
    } else if (result.entry) {
      anchor.href = text.entryUrl.replace(/0\/$/, result.entry + "/");
    } else {
      return null;
    }
    return anchor;
  }

  function showResults(outcome) {
    outcome.results.forEach(function (result) {
      if (result.status === "refused") { return; }  // listed in the outbox with the reasons
      var row = element("li", "list-group-item outbox-result outbox-" + result.status);
      row.appendChild(element("span", "", heading({ date: result.date }, result.shown) + " — "));
      row.appendChild(element("strong", "", text[result.status] || result.status));
      var anchor = link(result);
      if (anchor) { row.appendChild(anchor); }
      sent.appendChild(row);
    });
    sent.parentNode.hidden = sent.children.length === 0;
  }

  function synced() {
    syncing = false;
    showButton();
  }

  button.addEventListener("click", function () {
    syncing = true;
    showButton();
    Outbox.sync().then(synced, synced);
  });
  window.addEventListener("worklog:synced", function (event) { showResults(event.detail); });
  window.addEventListener("worklog:outbox-changed", render);
  window.addEventListener("online", showButton);
  window.addEventListener("offline", showButton);
  showButton();
  render();
}());
