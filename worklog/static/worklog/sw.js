/* Team Worklog's service worker, served as /sw.js by worklog/views/offline.py, which puts
   CONFIG (addresses) and VERSION (of this release) in front of this file.

   - Static files: fetched when the worker installs, then answered from the cache.
   - The notebook, the entry form and the outbox page: from the network when it answers
     (each answer kept for the next time there is none), else from what was kept. Only the
     logged-in user's pages are kept: offline.js empties them when the user changes.
   - An entry form posted when the network fails comes back as the form with `?unsent=1`:
     offline_form.js then puts the entry it noted in the outbox.
   Everything else goes to the network as if there were no worker. */
"use strict";

var STATIC_CACHE = "worklog-static-" + VERSION;
var PAGES_CACHE = "worklog-pages";  // offline.js's name for it too
var NETWORK_PATIENCE_MS = 6000;  // then a weak signal gets the kept page, if there is one

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then(function (cache) { return cache.addAll(CONFIG.assets); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("worklog-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

/* A page answer kept under its address without the query; a page the user may no longer
   open (a membership ended, a login page instead) is dropped. */
function keep(key, response) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    if (response.ok && !response.redirected && response.type === "basic") {
      return cache.put(key, response);
    }
    return cache.delete(key);
  });
}

function keptPage(key) {
  return caches.open(PAGES_CACHE).then(function (cache) { return cache.match(key); });
}

function page(request, url) {
  var key = url.origin + url.pathname;
  // The form and the outbox read their query in the page (offline_form.js); a filtered
  // notebook is not the one that was kept.
  var readsQuery = CONFIG.pagesReadingQuery.indexOf(url.pathname) !== -1;
  var fallback = url.search && !readsQuery ? Promise.resolve(undefined) : keptPage(key);
  var network = fetch(request).then(function (response) {
    if (url.search) { return response; }
    var kept = keep(key, response.clone()).catch(function () {});  // a full disk keeps nothing
    return kept.then(function () { return response; });
  });
  return new Promise(function (resolve) {
    var answered = false;
    function answer(response) {
      if (!answered) { answered = true; resolve(response); }
    }
    network.then(answer, function () {
      fallback.then(function (kept) { answer(kept || Response.error()); });
    });
    setTimeout(function () {
      fallback.then(function (kept) { if (kept) { answer(kept); } });
    }, NETWORK_PATIENCE_MS);
  });
}

function staticFile(event) {
  var request = event.request;
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (cached) {
      if (cached && CONFIG.staticImmutable) { return cached; }
      var fresh = fetch(request).then(function (response) {
        if (!response.ok) { return response; }
        return cache.put(request, response.clone()).then(function () { return response; });
      });
      if (!cached) { return fresh; }
      event.waitUntil(fresh.catch(function () {}));  // the next page gets the new one
      return cached;
    });
  });
}

function postedForm(request) {
  return fetch(request).catch(function () {
    return Response.redirect(CONFIG.formPage + "?unsent=1", 303);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && request.method === "POST" && url.pathname === CONFIG.formPage) {
    event.respondWith(postedForm(request));
  } else if (request.method !== "GET") {
    return;
  } else if (request.mode === "navigate" && CONFIG.pages.indexOf(url.pathname) !== -1) {
    event.respondWith(page(request, url));
  } else if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
    event.respondWith(staticFile(event));
  }
});
