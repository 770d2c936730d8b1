/* The med pass's service worker: the network first; when it does not answer, the pages the
 * cart prepared for offline (static/js/offline.js stores them in the "medtech-offline" cache).
 * It never answers a POST: records made offline are kept and sent by the page itself. */
"use strict";

var CACHE = "medtech-offline";
var NOT_PREPARED =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ' +
  'content="width=device-width, initial-scale=1"><title>Offline · MedTech eMAR</title>' +
  '<link rel="stylesheet" href="/static/css/app.css"></head><body><main id="content">' +
  '<h1>Offline</h1><p class="banner warn">This page was not prepared for offline use, and the ' +
  'server cannot be reached.</p><p><a href="/medpass/">Back to the med pass</a> (prepared pages ' +
  'open offline), or use the downtime MAR.</p></main></body></html>';

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname === "/sw.js") return;
  // Only what "Prepare for offline" stores: the med pass pages, the static files and the
  // residents' photos. Every other page (sign-in included) is the browser's own business, and
  // the offline API (the snapshot, the sync's sign-in check) always asks the server itself.
  var path = url.pathname;
  var prepared = path.indexOf("/medpass/") === 0 || path.indexOf("/static/") === 0 ||
    /^\/residents\/\d+\/photo\/$/.test(path);
  if (!prepared || path === "/medpass/offline/sync/" || path === "/medpass/offline/snapshot/") return;
  event.respondWith(
    fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(request, { ignoreVary: true }).then(function (hit) {
          if (hit) return hit;
          if (request.mode === "navigate") {
            return new Response(NOT_PREPARED, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
          }
          return Response.error();
        });
      });
    })
  );
});
