/* The outbox: entries saved on this phone while there was no connection, waiting to be
   sent to POST /api/sync (DESIGN §6). Each user has a database of their own
   ("worklog-outbox-<user id>"): another user of the same phone never sees or sends them,
   and logging out keeps them for the next login.

   A record: {uuid, savedAt, entry (the sync request's fields), shown (labels to list it
   by), activityId (to open it in the form again), refused (the server's reasons, or
   absent while it waits)}. */
window.WorklogOutbox = (function () {
  "use strict";
  var body = document.body.dataset;
  var user = body.user || "";
  var STORE = "entries";
  var BATCH = 100;  // the endpoint takes up to 500 a request; smaller answers come back sooner
  var database = null;

  function request(idbRequest) {
    return new Promise(function (resolve, reject) {
      idbRequest.onsuccess = function () { resolve(idbRequest.result); };
      idbRequest.onerror = function () { reject(idbRequest.error); };
    });
  }

  function open() {
    if (!user) { return Promise.reject(new Error("nobody is logged in")); }
    if (!database) {
      var opening = indexedDB.open("worklog-outbox-" + user, 1);
      opening.onupgradeneeded = function () {
        opening.result.createObjectStore(STORE, { keyPath: "uuid" });
      };
      database = request(opening);
    }
    return database;
  }

  function store(mode) {
    return open().then(function (db) { return db.transaction(STORE, mode).objectStore(STORE); });
  }

  function list() {
    return store("readonly").then(function (entries) { return request(entries.getAll()); })
      .then(function (records) {
        return records.sort(function (a, b) { return a.savedAt - b.savedAt; });
      });
  }

  function get(uuid) {
    return store("readonly").then(function (entries) { return request(entries.get(uuid)); });
  }

  function changed() {
    window.dispatchEvent(new CustomEvent("worklog:outbox-changed"));
  }

  function put(record) {
    return store("readwrite").then(function (entries) { return request(entries.put(record)); })
      .then(changed);
  }

  function remove(uuid) {
    return store("readwrite").then(function (entries) { return request(entries.delete(uuid)); })
      .then(changed);
  }

  function count() {
    if (!user) { return Promise.resolve(0); }
    return store("readonly").then(function (entries) { return request(entries.count()); });
  }

  /* The cookie holds the current token; a page kept for offline use may hold an older one. */
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(records) {
    return fetch(body.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ entries: records.map(function (record) { return record.entry; }) }),
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { throw { problem: "login" }; }
      if (!response.ok) { throw { problem: "server" }; }
      return response.json();
    }, function () {
      throw { problem: "offline" };
    });
  }

  /* Files each answer: saved, already saved or turned into an amendment leave the outbox;
     a refused entry stays with the reasons, for its user to correct or delete. */
  function file(records, answer) {
    var byUuid = {};
    records.forEach(function (record) { byUuid[record.uuid] = record; });
    return Promise.all(answer.results.map(function (result) {
      var record = byUuid[result.uuid];
      if (!record) { return null; }
      result.shown = record.shown;
      result.date = record.entry.date;
      if (result.status === "refused") {
        record.refused = result.errors || {};
        return put(record);
      }
      return remove(record.uuid);
    })).then(function () { return answer.results; });
  }

  function sendWaiting() {
    return list().then(function (records) {
      var waiting = records.filter(function (record) { return !record.refused; });
      var results = [];
      var next = Promise.resolve();
      for (var start = 0; start < waiting.length; start += BATCH) {
        (function (batch) {
          next = next.then(function () { return send(batch); })
            .then(function (answer) { return file(batch, answer); })
            .then(function (filed) { results = results.concat(filed); });
        }(waiting.slice(start, start + BATCH)));
      }
      return next.then(function () { return { results: results, problem: null }; },
        function (failure) {
          if (failure && failure.problem) { return { results: results, problem: failure.problem }; }
          throw failure;
        });
    });
  }

  /* Sends what waits, one tab at a time, and tells the page what came of it
     ("worklog:synced", detail {results, problem}: null, "offline", "login" or "server"). */
  function sync() {
    if (!user) { return Promise.resolve({ results: [], problem: null }); }
    var run = navigator.locks
      ? navigator.locks.request("worklog-outbox-" + user, sendWaiting)
      : sendWaiting();
    return run.then(function (outcome) {
      window.dispatchEvent(new CustomEvent("worklog:synced", { detail: outcome }));
      return outcome;
    });
  }

  return { user: user, list: list, get: get, put: put, remove: remove, count: count, sync: sync };
}());
