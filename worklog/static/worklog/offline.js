/* Every page: the service worker (worklog/static/worklog/sw.js, served as /sw.js), the
   pages it keeps for offline use, the header's count of entries waiting to sync, and
   sending them when the connection returns.

   The kept pages (the notebook, the entry form, the outbox) belong to the user logged in:
   they go when another user logs in or this one logs out (and are fetched again when the
   user switches language), and are fetched again every few minutes of use, so a team's
   households leave the phone with the membership. */
(function () {
  "use strict";
  var body = document.body.dataset;
  var user = body.user || "";
  var Outbox = window.WorklogOutbox;
  var PAGES_CACHE = "worklog-pages";  // the service worker's name for it too
  var REFRESH_EVERY_MS = 5 * 60 * 1000;
  var pages = (body.offlinePages || "").split(" ").filter(Boolean);

  function remembered(key) {
    try { return localStorage.getItem(key) || ""; } catch (error) { return ""; }
  }
  function remember(key, value) {
    try { localStorage.setItem(key, value); } catch (error) { /* private mode: no memory */ }
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(body.serviceWorker, { scope: "/" }).catch(function () {});
  }

  /* Kept as the service worker keeps a page it served: a page the user may no longer
     open (a membership ended, the session expired) goes. */
  function keep(cache, page) {
    return fetch(page, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.ok && !response.redirected) { return cache.put(page, response); }
      return cache.delete(page);
    });
  }

  function refreshPages(force) {
    var now = Date.now();
    var last = Number(remembered("worklog.pagesRefreshed")) || 0;
    if (!force && now - last < REFRESH_EVERY_MS) { return Promise.resolve(); }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(pages.map(function (page) { return keep(cache, page); }));
    }).then(function () { remember("worklog.pagesRefreshed", String(now)); });
  }

  function forgetPages() {
    remember("worklog.pagesRefreshed", "");
    return caches.delete(PAGES_CACHE);
  }

  /* The kept pages are this user's, in the language they now read. */
  function preparePages() {
    if (!window.caches) { return Promise.resolve(); }
    var owner = user + " " + document.documentElement.lang;
    var changed = remembered("worklog.pagesOwner") !== owner;
    var ready = changed ? forgetPages() : Promise.resolve();
    remember("worklog.pagesOwner", owner);
    if (!user || !navigator.onLine) { return ready; }
    return ready.then(function () { return refreshPages(changed); });
  }

  // Once the worker runs and the pages are kept, this page can be opened with no connection.
  var working = "serviceWorker" in navigator ? navigator.serviceWorker.ready : Promise.reject();
  Promise.all([working, preparePages()]).then(function () {
    document.documentElement.dataset.offlineReady = "true";
  }, function () {});

  // Logging out empties the kept pages at once, before the next user can look.
  document.querySelectorAll("form.logout-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.caches) { return; }
      event.preventDefault();
      forgetPages().then(function () { form.submit(); }, function () { form.submit(); });
    });
  });

  var link = document.querySelector(".outbox-link");
  var count = document.querySelector(".outbox-count");
  var offlineBadge = document.querySelector(".offline-badge");
  var status = document.querySelector(".sync-status");

  function showCount() {
    Outbox.count().then(function (waiting) {
      count.textContent = String(waiting);
      link.hidden = waiting === 0;
    }, function () { link.hidden = true; });
  }

  function showConnection() {
    offlineBadge.hidden = navigator.onLine;
  }

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  /* One sentence for each outcome that happened ("2 saved from this phone."). */
  function summary(outcome) {
    if (outcome.problem) { return status.dataset[outcome.problem] || ""; }
    var counts = {};
    outcome.results.forEach(function (result) { counts[result.status] = (counts[result.status] || 0) + 1; });
    return ["created", "present", "amendment", "refused"].filter(function (kind) {
      return counts[kind];
    }).map(function (kind) {
      return status.dataset[kind].replace("{n}", counts[kind]);
    }).join(" ");
  }

  function syncNow() {
    if (navigator.onLine) { Outbox.sync(); }
  }

  if (!user || !link) { return; }
  window.addEventListener("worklog:outbox-changed", showCount);
  window.addEventListener("worklog:synced", function (event) { say(summary(event.detail)); });
  window.addEventListener("online", function () { showConnection(); syncNow(); });
  window.addEventListener("offline", showConnection);
  showConnection();
  showCount();
  // once every script of the page listens (the outbox page shows each result)
  document.addEventListener("DOMContentLoaded", syncNow);
}());
