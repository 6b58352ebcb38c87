// Live alert list: polls /alerts/feed for alerts raised after the newest one shown and puts them at
// the top of the table. Alert data is attacker-controlled: every cell is built with textContent,
// links from the numeric id only; nothing is parsed as HTML.
(function () {
  "use strict";

  var body = document.getElementById("alert-rows");
  if (!body || !body.dataset.feed) {
    return;
  }
  var live = document.getElementById("alert-live");
  var feed = new URL(body.dataset.feed, window.location.origin);
  var after = parseInt(body.dataset.after || "0", 10) || 0;
  var interval = (parseInt(body.dataset.interval || "5", 10) || 5) * 1000;
  var delay = interval;
  var maxRows = 500;
  var timer = null;
  var stopped = false;
  var busy = false;

  function word(value, known) {
    // Class names from data: only the store's fixed vocabulary, anything else is "unknown".
    return known.indexOf(value) >= 0 ? value : "unknown";
  }

  function capital(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) {
      td.className = cls;
    }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function badge(td, base, value, known) {
    var span = document.createElement("span");
    span.className = base + word(value, known);
    span.textContent = capital(String(value || ""));
    td.appendChild(span);
  }

  function row(a) {
    var id = Number(a.id);
    var tr = document.createElement("tr");
    tr.className = "fresh";
    tr.setAttribute("data-id", String(id));

    var when = cell(tr, "", "");
    var time = document.createElement("time");
    time.setAttribute("datetime", String(a.last_seen_iso || ""));
    time.title = String(a.last_seen || "");
    time.textContent = String(a.last_seen_ago || "");
    when.appendChild(time);

    badge(cell(tr, "", ""), "sev sev-", a.severity, ["high", "medium", "low", "informational"]);

    var rule = document.createElement("th");
    rule.setAttribute("scope", "row");
    var link = document.createElement("a");
    link.href = "/alerts/" + id;
    link.textContent = String(a.rule || "");
    rule.appendChild(link);
    tr.appendChild(rule);

    cell(tr, String(a.tactic || "—"), "hide-narrow");
    cell(tr, String(a.resource || ""), "hide-narrow");
    cell(tr, String(a.hostname || "—"), "hide-narrow");
    cell(tr, String(Number(a.count) || 0), "num hide-narrow");
    badge(cell(tr, "", ""), "pill status-", a.status, ["new", "acknowledged", "dismissed"]);
    return tr;
  }

  function say(text) {
    if (live) {
      live.textContent = text;
    }
  }

  function add(items) {
    var empty = document.getElementById("alert-empty");
    if (empty && items.length) {
      empty.parentNode.removeChild(empty);
    }
    items.forEach(function (a) {
      if (body.querySelector('tr[data-id="' + Number(a.id) + '"]')) {
        return;
      }
      body.insertBefore(row(a), body.firstChild);
    });
    while (body.rows.length > maxRows) {
      body.deleteRow(body.rows.length - 1);
    }
    if (items.length === 1) {
      say("New alert: " + String(items[0].rule || "") + " (" + String(items[0].severity || "") + ")");
    } else if (items.length > 1) {
      say(items.length + " new alerts");
    }
  }

  function schedule(ms) {
    if (!stopped) {
      timer = window.setTimeout(poll, ms);
    }
  }

  function poll() {
    timer = null;
    if (document.hidden || busy) {
      schedule(interval);
      return;
    }
    busy = true;
    feed.searchParams.set("after", String(after));
    fetch(feed.toString(), {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) {
          stopped = true;
          say("Your session ended: reload the page to sign in again. New alerts are not shown until then.");
          return null;
        }
        if (!response.ok) {
          throw new Error("feed answered " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        busy = false;
        if (!data) {
          return;
        }
        add(Array.isArray(data.items) ? data.items : []);
        after = Math.max(after, Number(data.after) || 0);
        delay = interval;
        schedule(data.more ? 200 : interval);
      })
      .catch(function () {
        // The server is restarting or the network is away: back off, up to a minute.
        busy = false;
        delay = Math.min(delay * 2, 60000);
        schedule(delay);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stopped && timer !== null) {
      window.clearTimeout(timer);
      poll();
    }
  });
  schedule(interval);
}());
