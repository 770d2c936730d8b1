/* The offline med pass.
 *
 * "Prepare for offline" (the board) stores the board and the med pass page of every resident
 * being passed in the browser's cache; the service worker (/sw.js) answers from it when the
 * network does not. Offline, a record made on a dose or PRN card is checked against the rules
 * the page carries (data-offline on each card: window, hold parameters, doses given, PRN
 * limits), then kept in IndexedDB with its one-time key, the time on the device and the time
 * of the snapshot. When the connection comes back the records are sent in the order they were
 * made; the server records each once (mar.services.offline), or keeps it for a nurse to
 * reconcile. A record leaves this device only when the server has answered for it. Logging out
 * or leaving the app is refused while any waits.
 */
(function () {
  "use strict";

  var DB_NAME = "medtech-offline";
  var CACHE = "medtech-offline";
  var body = document.body;
  var conf = body ? body.dataset : {};
  var state = { waiting: 0, failed: 0, syncing: false, forcedOffline: false, leaving: false, message: null };

  // IndexedDB --------------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = function () {
          var store = open.result.createObjectStore("records", { keyPath: "seq", autoIncrement: true });
          store.createIndex("key", "key", { unique: true });
          open.result.createObjectStore("meta");
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function run(storeName, mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var tx = database.transaction(storeName, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { result = request.result; };
      });
    });
  }
  function allRecords() { return run("records", "readonly", function (s) { return s.getAll(); }); }
  function putRecord(record) { return run("records", "readwrite", function (s) { return s.put(record); }); }
  function keyUsed(key) { return run("records", "readonly", function (s) { return s.index("key").count(key); }); }
  function getMeta(name) { return run("meta", "readonly", function (s) { return s.get(name); }); }
  function setMeta(name, value) { return run("meta", "readwrite", function (s) { return s.put(value, name); }); }
  function delMeta(name) { return run("meta", "readwrite", function (s) { return s.delete(name); }); }
  function waiting(records) { return records.filter(function (r) { return !r.outcome; }); }

  // Time, in the facility's clock ------------------------------------------------------------
  function clock(iso) {
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (conf.offlineTz) options.timeZone = conf.offlineTz;
    try { return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso)); }
    catch (e) { return new Date(iso).toTimeString().slice(0, 5); }
  }
  function online() { return navigator.onLine && !state.forcedOffline; }
  function counted(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // The band ---------------------------------------------------------------------------------
  function band() { return document.getElementById("offline-band"); }
  function show(text, tone, link) {
    var el = band();
    if (!el) return;
    el.className = "banner offline-band no-print " + tone;
    el.textContent = text;
    if (link) {
      el.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      el.appendChild(a);
    }
    el.hidden = false;
  }
  function render() {
    return Promise.all([allRecords(), getMeta("offline_since"), getMeta("snapshot")]).then(function (got) {
      var records = got[0], since = got[1], snapshot = got[2];
      var queue = waiting(records);
      state.waiting = queue.length;
      state.failed = queue.filter(function (r) { return r.failed; }).length;
      markCards(records);
      if (!online()) {
        var text = "Offline since " + clock(since || new Date().toISOString()) + " — " +
          counted(queue.length, "record") + " waiting.";
        if (snapshot) text += " Showing the pages prepared at " + clock(snapshot.taken_at) + ".";
        if (state.message && state.message.urgent) show(state.message.text + " " + text, "bad");
        else show(text, "warn");
      } else if (state.message) {
        show(state.message.text, state.message.tone, state.message.link);
      } else if (queue.length) {
        show(counted(queue.length, "record") + " made offline " + (queue.length === 1 ? "is" : "are") +
          " waiting to be sent.", "warn");
      } else if (band()) {
        band().hidden = true;
      }
      renderQueueList(records);
      renderPrepared(snapshot);
    }).catch(function () { /* no IndexedDB (private mode): nothing is kept, nothing to show */ });
  }

  // Cards: what this cart recorded offline ---------------------------------------------------
  var OUTCOME_WORDS = {
    recorded: "sent",
    duplicate: "sent",
    reconcile: "sent; a nurse will review it"
  };
  function markCards(records) {
    records.forEach(function (record) {
      if (!record.snapshot_at) return;
      var card = document.getElementById((record.kind === "dose" ? "dose-" : "prn-") + record.target);
      if (!card) return;
      var id = "offline-mark-" + record.seq;
      var mark = document.getElementById(id);
      if (!mark) {
        mark = document.createElement("p");
        mark.id = id;
        mark.className = "banner info offline-mark";
        var head = card.querySelector(".dose-head");
        card.insertBefore(mark, head ? head.nextSibling : card.firstChild);
      }
      mark.textContent = "Recorded on this cart at " + clock(record.device_at) + ": " + record.label +
        " — " + (record.outcome ? OUTCOME_WORDS[record.outcome] || "sent" : "waiting to be sent") + ".";
      if (record.kind === "dose") {
        var form = card.querySelector("form.record");
        if (form) form.hidden = true;
      }
    });
  }

  // Recording offline ------------------------------------------------------------------------
  function field(form, name) {
    var input = form.querySelector('[name="' + name + '"]');
    return input ? String(input.value || "").trim() : "";
  }
  function refuse(form, message, name) {
    form.querySelectorAll(".offline-error").forEach(function (el) { el.remove(); });
    var p = document.createElement("p");
    p.className = "errorlist offline-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    var input = name && form.querySelector('[name="' + name + '"]');
    if (input && input.closest(".field")) input.closest(".field").appendChild(p);
    else form.insertBefore(p, form.firstChild);
    if (input) input.focus();
  }
  function vitalsOf(form) {
    var vitals = {};
    form.querySelectorAll('input[name^="vital_"]').forEach(function (input) {
      if (input.value.trim()) vitals[input.name.slice(6)] = input.value.trim();
    });
    return vitals;
  }
  function holdCheck(rules, vitals) {
    var missing = rules.holds.filter(function (h) { return !vitals[h.vital]; });
    if (missing.length) return { missing: true };
    for (var i = 0; i < rules.holds.length; i++) {
      var h = rules.holds[i], value = Number(vitals[h.vital]);
      if (isNaN(value)) continue;
      var hit = { lt: value < h.at, le: value <= h.at, gt: value > h.at, ge: value >= h.at }[h.cmp];
      if (hit) return { trigger: h.text + " — reading " + vitals[h.vital] };
    }
    return {};
  }
  function givenTimes(rules, records, kind) {
    var times = rules.given.map(function (t) { return new Date(t); });
    records.forEach(function (r) {
      if (r.kind === kind && r.order === rules.order && r.status === "given" && !r.held) {
        times.push(new Date(r.device_at));
      }
    });
    return times.sort(function (a, b) { return b - a; });
  }
  var NEEDS_SERVER = "needs the server, which cannot be reached: record it when the connection is back, " +
    "or on the downtime MAR.";

  function checkDose(form, rules, status, records, now) {
    var mine = records.filter(function (r) { return r.kind === "dose" && r.target === rules.id; });
    if (mine.length) return ["Already recorded on this cart at " + clock(mine[0].device_at) + "."];
    if (now < new Date(rules.opens)) {
      return ["Too early: this dose's window opens at " + rules.opens_text + ". Offline, no dose is given early."];
    }
    if (status === "given") {
      if (!rules.give) return ["No stock on hand: only “Not available” can be recorded."];
      if (rules.witness) return ["A controlled drug's witness signs with a password, which " + NEEDS_SERVER];
      var vitals = vitalsOf(form), hold = holdCheck(rules, vitals);
      if (hold.missing) return ["Take and enter the vital signs before giving: this order has hold parameters.", "vital_" + rules.holds[0].vital];
      var spacing = rules.spacing_min * 60000;
      var close = givenTimes(rules, records, "dose").filter(function (t) { return Math.abs(now - t) < spacing; });
      if (close.length) {
        return ["Too close to the dose given at " + clock(close[0].toISOString()) + ": doses of this order are at least " +
          rules.spacing_min + " minutes apart. Offline, this cannot be overridden."];
      }
    } else if (!field(form, "reason")) {
      return ["Enter the reason the dose was " + status.replace("_", " ") + ".", "reason"];
    }
    if (status === "other" && !field(form, "other_code")) return ["Choose a code for “other”.", "other_code"];
    if (now > new Date(rules.closes) && !field(form, "late_reason")) {
      if (!form.querySelector('[name="late_reason"]')) {
        var reasons = form.querySelector(".reasons") || form;
        var div = document.createElement("div");
        div.className = "field";
        var id = "l-offline-" + rules.id;
        div.innerHTML = '<label for="' + id + '">Late reason (window closed)</label><input id="' + id + '" type="text" name="late_reason">';
        reasons.insertBefore(div, reasons.firstChild);
      }
      return ["Late: the window closed at " + rules.closes_text + ". Enter a late reason.", "late_reason"];
    }
    return null;
  }
  function checkPrn(form, rules, records, now) {
    if (!field(form, "prn_reason")) return ["Enter why the PRN is given (the symptom or reason).", "prn_reason"];
    if (!rules.give) return ["No stock on hand: this PRN cannot be given."];
    if (rules.witness) return ["A controlled drug's witness signs with a password, which " + NEEDS_SERVER];
    if (rules.approval) return ["The approving nurse signs with a password, which " + NEEDS_SERVER];
    var hold = holdCheck(rules, vitalsOf(form));
    if (hold.missing) return ["Take and enter the vital signs before giving: this order has hold parameters.", "vital_" + rules.holds[0].vital];
    if (hold.trigger) return ["Do not give: " + hold.trigger + ". Tell the nurse."];
    var times = givenTimes(rules, records, "prn");
    if (times.length) {
      var last = times[0], day = times.filter(function (t) { return t > now - 86400000; });
      var soon = rules.min_hours && now - last < rules.min_hours * 3600000;
      var many = rules.max_24h && day.length >= rules.max_24h;
      if (soon || many) {
        return ["Not yet: last given at " + clock(last.toISOString()) + ", and " +
          (many ? "the maximum of " + rules.max_24h + " in 24 hours is reached" : "it must be " + rules.min_hours + " h apart") + "."];
      }
    }
    return null;
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function recordOffline(form, submitter) {
    var card = form.closest("article.dose");
    var rules = card && card.dataset.offline ? JSON.parse(card.dataset.offline) : null;
    if (!rules || !conf.offlineUser || form.matches(".away")) {
      refuse(form, "No connection: this " + NEEDS_SERVER);
      return Promise.resolve();
    }
    var now = new Date();
    var status = rules.kind === "dose" ? (submitter && submitter.value) || "" : "given";
    return Promise.all([allRecords(), getMeta("snapshot"), getMeta("offline_since")]).then(function (got) {
      var records = got[0], snapshot = got[1], since = got[2];
      var maxHours = Number((snapshot && snapshot.max_hours) || conf.offlineMaxHours || 8);
      var from = since ? new Date(since) : now;
      if (snapshot && new Date(snapshot.taken_at) < from) from = new Date(snapshot.taken_at);
      if (now - from > maxHours * 3600000) {
        return refuse(form, "Offline for more than " + maxHours + " hours: stop recording on this cart and use the " +
          "downtime MAR (printed from the board). Type its entries in when the connection is back.");
      }
      if (rules.kind === "dose" && !status) return refuse(form, "Choose what happened: given, refused, held, …");
      var problem = rules.kind === "dose" ? checkDose(form, rules, status, records, now) : checkPrn(form, rules, records, now);
      if (problem) return refuse(form, problem[0], problem[1]);
      var formKey = field(form, "key");
      return keyUsed(formKey).then(function (used) {
        var hold = status === "given" && rules.holds.length ? holdCheck(rules, vitalsOf(form)) : {};
        var med = card.querySelector(".med"), who = document.querySelector(".resident-band h1");
        var label = (who ? who.textContent.trim() + ", " : "") + (med ? med.textContent.trim() + ": " : "") +
          (rules.kind === "prn" ? "PRN given" : hold.trigger ? "held (" + hold.trigger + ")" :
            ((submitter && submitter.textContent.trim()) || status).toLowerCase());
        var record = {
          key: used || !formKey ? newKey() : formKey,
          kind: rules.kind,
          target: rules.id,
          order: rules.order,
          user: Number(conf.offlineUser),
          device_at: now.toISOString(),
          snapshot_at: snapshot ? snapshot.taken_at : (body.dataset.offlineRendered || now.toISOString()),
          status: status,
          held: Boolean(hold.trigger),
          reason: field(form, "reason"),
          late_reason: field(form, "late_reason"),
          other_code: field(form, "other_code"),
          prn_reason: field(form, "prn_reason"),
          notes: field(form, "notes"),
          vitals: vitalsOf(form),
          label: label,
          outcome: null
        };
        return putRecord(record).then(function () {
          state.message = null;
          form.querySelectorAll(".offline-error").forEach(function (el) { el.remove(); });
          form.reset();
          return render();
        });
      });
    });
  }

  // Sending ---------------------------------------------------------------------------------
  function isJson(response) {
    return (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
  }
  function sync() {
    if (state.syncing || !navigator.onLine || !conf.offlineSync) return Promise.resolve();
    state.syncing = true;
    var sent = { recorded: 0, duplicate: 0, reconcile: 0 };
    return allRecords().then(function (records) {
      var queue = waiting(records).filter(function (r) { return !r.failed; });
      if (!queue.length) return null;
      show("Sending " + counted(queue.length, "record") + " made offline…", "warn");
      return fetch(conf.offlineSync, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
        .then(function (hello) {
          if (!hello.ok || !isJson(hello)) throw { signIn: true };
          return hello.json();
        })
        .then(function (me) {
          state.forcedOffline = false;
          return queue.reduce(function (chain, record) {
            return chain.then(function (go) {
              if (go === false) return false;
              if (record.user !== me.user) { throw { otherUser: true }; }
              return send(record, me.csrf).then(function (answer) {
                if (answer.outcome) sent[answer.outcome] = (sent[answer.outcome] || 0) + 1;
                return answer.stop ? false : true;
              });
            });
          }, Promise.resolve(true));
        })
        .then(function () { return sent; });
    }).then(function (result) {
      if (!result) return;
      retry.delay = 2000;
      var total = result.recorded + result.duplicate + result.reconcile;
      if (!total) return;
      return allRecords().then(function (records) {
        var left = waiting(records).length;
        if (left) {
          state.message = { text: counted(left, "record") + " still waiting to be sent; it will be tried again.", tone: "warn" };
        } else {
          return delMeta("offline_since").then(function () {
            state.message = result.reconcile
              ? { text: "All synced — " + counted(result.reconcile, "record") + " went to a nurse to reconcile (someone else documented the dose, or the order changed).", tone: "warn",
                  link: { href: conf.offlineRecords, text: "See them" } }
              : { text: "All synced: " + counted(total, "record") + " made offline reached the server.", tone: "ok" };
          });
        }
      });
    }).catch(function (problem) {
      if (problem && problem.signIn) {
        state.message = { text: counted(state.waiting, "record") + " made offline wait on this cart: sign in again to send them.", tone: "bad" };
      } else if (problem && problem.otherUser) {
        state.message = { text: "Records made offline by someone else wait on this cart: they must sign in here to send them.", tone: "bad" };
      } else {
        state.forcedOffline = !navigator.onLine;
        state.message = { text: "The server could not be reached: the records wait on this cart and are sent when it answers.", tone: "warn" };
        retryLater();
      }
    }).then(function () {
      state.syncing = false;
      return render();
    });
  }
  // The network says it is back before the server answers (Wi-Fi reassociating, a service
  // worker still offline): try again soon, then less often.
  var retry = { delay: 2000, timer: null };
  function retryLater() {
    if (retry.timer) return;
    retry.timer = setTimeout(function () { retry.timer = null; sync(); }, retry.delay);
    retry.delay = Math.min(retry.delay * 2, 30000);
  }

  function send(record, csrf) {
    var payload = {};
    ["key", "kind", "target", "user", "device_at", "snapshot_at", "status", "reason", "late_reason",
      "other_code", "prn_reason", "notes", "vitals"].forEach(function (name) { payload[name] = record[name]; });
    return fetch(conf.offlineSync, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (response.status === 200 && isJson(response)) {
        return response.json().then(function (answer) {
          record.outcome = answer.outcome;
          record.message = answer.message;
          record.sent_at = new Date().toISOString();
          return putRecord(record).then(function () { return answer; });
        });
      }
      if (response.status === 400 && isJson(response)) {
        // Not a record the server can read: kept here, shown, never dropped.
        record.failed = true;
        return putRecord(record).then(function () { return {}; });
      }
      if (response.status === 409) throw { otherUser: true };
      if (response.status === 403 || response.type === "opaqueredirect") throw { signIn: true };
      throw { server: response.status };
    });
  }

  // Prepare for offline ----------------------------------------------------------------------
  function prepare(button) {
    var status = document.querySelector("[data-offline-status]");
    button.disabled = true;
    if (status) status.textContent = "Preparing…";
    var snapshot;
    return fetch(button.dataset.offlinePrepare, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok || !isJson(r)) throw new Error("snapshot"); return r.json(); })
      .then(function (got) {
        snapshot = got;
        return caches.delete(CACHE).then(function () { return caches.open(CACHE); });
      })
      .then(function (cache) {
        return Promise.all(snapshot.urls.map(function (url) {
          return fetch(url, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok) throw new Error(url);
            return cache.put(url, response);
          });
        }));
      })
      .then(function () {
        // Records already sent belonged to the earlier snapshot; what still waits stays.
        return allRecords().then(function (records) {
          return run("records", "readwrite", function (store) {
            records.forEach(function (r) { if (r.outcome) store.delete(r.seq); });
          });
        });
      })
      .then(function () { return setMeta("snapshot", snapshot); })
      .then(function () {
        // Ask the browser not to evict this site's storage under pressure (records wait there).
        if (navigator.storage && navigator.storage.persist) return navigator.storage.persist().catch(function () {});
      })
      .then(function () { return render(); })
      .catch(function () {
        if (status) status.textContent = "Could not prepare for offline: check the connection and try again.";
      })
      .then(function () { button.disabled = false; });
  }
  function renderPrepared(snapshot) {
    var status = document.querySelector("[data-offline-status]");
    if (!status) return;
    if (!snapshot) { status.textContent = "Not prepared for offline."; return; }
    var until = new Date(new Date(snapshot.taken_at).getTime() + snapshot.max_hours * 3600000).toISOString();
    status.textContent = "Prepared for offline at " + clock(snapshot.taken_at) + ": " + snapshot.label + ", " +
      counted(snapshot.residents, "resident") + ", good until " + clock(until) + ".";
  }

  // The list on "Offline records" ------------------------------------------------------------
  function renderQueueList(records) {
    var list = document.querySelector("[data-offline-queue]");
    if (!list) return;
    list.textContent = "";
    var shown = records.slice().sort(function (a, b) { return a.seq - b.seq; });
    if (!shown.length) {
      var none = document.createElement("li");
      none.textContent = "Nothing was recorded offline on this cart.";
      list.appendChild(none);
    }
    shown.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = clock(r.device_at) + " — " + r.label + " (" + (r.kind === "dose" ? "scheduled dose" : "PRN") + "): " +
        (r.failed ? "the server could not read it; show this cart to a nurse" :
          r.outcome ? (r.message || OUTCOME_WORDS[r.outcome]) : "waiting to be sent");
      list.appendChild(li);
    });
  }

  // Leaving and logging out -----------------------------------------------------------------
  function clearAll() {
    return Promise.all([
      run("records", "readwrite", function (s) { return s.clear(); }),
      run("meta", "readwrite", function (s) { return s.clear(); }),
      window.caches ? caches.delete(CACHE) : Promise.resolve()
    ]).catch(function () {});
  }
  function guardLogout(event) {
    if (state.waiting) {
      event.preventDefault();
      event.stopImmediatePropagation();
      state.message = { text: "You cannot log out yet: " + counted(state.waiting, "record") + " made offline " +
        (state.waiting === 1 ? "has" : "have") + " not reached the server. Reconnect and wait for “all synced”.", tone: "bad", urgent: true };
      render();
      return;
    }
    // Nothing waits: the logout goes on, and what this device kept is cleared (again on the
    // sign-in page, should the page leave before it is done).
    state.leaving = true;
    clearAll();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    state.leaving = true;  // a submit stays in the app
    if (form.matches("form.logout")) return guardLogout(event);
    if (online()) return;
    if (!form.matches("form.record")) {
      // Only doses and PRNs are kept offline; anything else would be lost in the attempt.
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || !conf.offlineUser) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      state.leaving = false;
      refuse(form, "No connection: this is saved only when the connection is back. Doses and PRNs can " +
        "be recorded offline on the med pass.");
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    state.leaving = false;
    recordOffline(form, event.submitter);
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && link.origin === location.origin) state.leaving = true;
    var button = event.target.closest && event.target.closest("[data-offline-prepare]");
    if (button) { event.preventDefault(); prepare(button); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (state.waiting && !state.leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
    state.leaving = false;
  });
  // A record sent while the connection was failing: kept as if made offline (its form's key:
  // if the server did receive it, the replay finds the first result).
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form.record");
    if (!form) return;
    state.forcedOffline = true;
    setMeta("offline_since", new Date().toISOString()).then(function () {
      return recordOffline(form, event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
        event.detail.requestConfig.triggeringEvent.submitter);
    });
  });
  window.addEventListener("offline", function () {
    getMeta("offline_since").then(function (since) {
      return since ? null : setMeta("offline_since", new Date().toISOString());
    }).then(render);
  });
  window.addEventListener("online", function () { state.forcedOffline = false; state.message = null; sync(); });

  // A dose whose window opens after the page was made: its form appears when it opens (the
  // server refuses it before, online or not).
  function openWindows() {
    var now = new Date();
    document.querySelectorAll("form[data-offline-later]").forEach(function (form) {
      var card = form.closest("article.dose");
      var rules = card && card.dataset.offline ? JSON.parse(card.dataset.offline) : null;
      if (!rules || now < new Date(rules.opens)) return;
      form.removeAttribute("data-offline-later");
      var marked = card.querySelector(".offline-mark");
      form.hidden = Boolean(marked);
      var blocked = card.querySelector(".blocked");
      if (blocked) blocked.hidden = true;
    });
  }

  if (!body) return;
  openWindows();
  setInterval(openWindows, 30000);
  body.dataset.offlineRendered = new Date().toISOString();
  if (!conf.offlineUser && !document.querySelector("[data-offline-queue]")) {
    // Signed out: the band still says what waits (sign in to send it); with nothing waiting,
    // nothing of the last person's stays on the device.
    if (window.indexedDB) {
      allRecords().then(function (records) { return waiting(records).length ? render() : clearAll(); },
        function () {});
    }
  } else {
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    }
    (navigator.onLine ? Promise.resolve() : getMeta("offline_since").then(function (since) {
      return since ? null : setMeta("offline_since", new Date().toISOString());
    })).then(render).then(sync);
    setInterval(function () { if (state.waiting && online()) sync(); }, 30000);
  }
})();
