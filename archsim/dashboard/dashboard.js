// archsim dashboard: polls /api/frame and annotates the diagram and the tables. No libraries.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var failures = 0;

  function rate(x) { return x === null || x === undefined ? "—" : (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)); }
  function secs(x) {
    if (x === null || x === undefined) return "—";
    if (x >= 1) return x.toPrecision(3) + "s";
    if (x >= 1e-3) return (x * 1e3).toPrecision(3) + "ms";
    return (x * 1e6).toPrecision(3) + "us";
  }
  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(x < 0.1 ? 1 : 0) + "%"; }

  function figText(r) {
    var m = r.measured, p = r.predicted, s = rate(m ? m.throughput : null) + "/s";
    if (p) s += " (" + rate(p.throughput) + ")";
    if (m && m.p95 !== null && m.p95 !== undefined) s += " p95 " + secs(m.p95);
    if (r.state === "error") s = (r.reasons[0] || "error") + " · " + s;
    return s;
  }

  function label(group, r, x, y) {
    var t = group.querySelector("text.fig");
    if (!t) {
      t = document.createElementNS(NS, "text");
      t.setAttribute("class", "fig");
      t.setAttribute("text-anchor", "middle");
      group.appendChild(t);
    }
    t.setAttribute("x", x); t.setAttribute("y", y);
    t.setAttribute("class", "fig " + r.state);
    t.textContent = figText(r);
  }

  function paintNode(r) {
    var g = document.getElementById("node-" + r.id);
    if (!g) return;
    g.setAttribute("class", "node st-" + r.state);
    if (!g.dataset.anchor) {
      var shape = g.querySelector("polygon, ellipse, path");
      var b = (shape || g).getBBox();
      g.dataset.anchor = (b.x + b.width / 2) + "," + (b.y + b.height + 10);
    }
    var a = g.dataset.anchor.split(",");
    label(g, r, a[0], a[1]);
  }

  function paintLink(r) {
    var g = document.getElementById("edge-" + r.source + "-" + r.target + "-" + r.relation);
    if (!g) return;
    g.setAttribute("class", "edge st-" + r.state);
    var busy = (r.measured && r.measured.count > 0) || (r.predicted && r.predicted.throughput > 0) || r.state === "error";
    var t = g.querySelector("text.fig");
    if (!busy) { if (t) t.remove(); return; }
    if (!g.dataset.anchor) {
      var path = g.querySelector("path");
      if (!path) return;
      var pt = path.getPointAtLength(path.getTotalLength() / 2);
      g.dataset.anchor = pt.x + "," + (pt.y - 3);
    }
    var a = g.dataset.anchor.split(",");
    label(g, r, a[0], a[1]);
  }

  function cell(tr, field, text, value) {
    var td = tr.querySelector('td[data-f="' + field + '"]');
    td.textContent = text;
    if (value === null || value === undefined) td.removeAttribute("data-value");
    else td.setAttribute("data-value", String(value));
  }

  var FIELDS = ["name", "state", "m_tput", "p_tput", "band", "errors", "m_mean", "p_mean", "m_p95", "p_p95"];

  function row(tbody, r) {
    var tr = document.getElementById("row-" + r.id);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = "row-" + r.id;
      FIELDS.forEach(function (f) {
        var td = document.createElement("td");
        td.setAttribute("data-f", f);
        if (f === "state") td.className = "state";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    }
    var m = r.measured || {}, p = r.predicted || {};
    tr.className = r.state;
    tr.setAttribute("data-state", r.state);
    cell(tr, "name", r.label, r.id);
    cell(tr, "state", r.state + (r.reasons.length ? " (" + r.reasons.join(", ") + ")" : ""), r.state);
    cell(tr, "m_tput", rate(m.throughput), m.throughput);
    cell(tr, "p_tput", rate(p.throughput), p.throughput);
    cell(tr, "band", r.interval ? rate(r.interval[0]) + "–" + rate(r.interval[1]) : "—", null);
    cell(tr, "errors", pct(m.error_ratio), m.error_ratio);
    cell(tr, "m_mean", secs(m.mean), m.mean);
    cell(tr, "p_mean", secs(p.mean), p.mean);
    cell(tr, "m_p95", secs(m.p95), m.p95);
    cell(tr, "p_p95", (p.p95_approx && p.p95 !== null ? "≈" : "") + secs(p.p95), p.p95);
  }

  function chart(steps) {
    var svg = document.getElementById("chart");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!steps || !steps.length) return;
    var max = 1;
    steps.forEach(function (s) { max = Math.max(max, s.offered_rps || 0, s.throughput || 0); });
    function pt(s, key) { return (10 + 280 * (s.offered_rps || 0) / max) + "," + (110 - 100 * (s[key] || 0) / max); }
    var ideal = document.createElementNS(NS, "line");
    ideal.setAttribute("x1", 10); ideal.setAttribute("y1", 110); ideal.setAttribute("x2", 290); ideal.setAttribute("y2", 10);
    ideal.setAttribute("stroke", "#cbd5e1"); ideal.setAttribute("stroke-dasharray", "4 3");
    svg.appendChild(ideal);
    var line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", steps.map(function (s) { return pt(s, "throughput"); }).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2563eb"); line.setAttribute("stroke-width", 2);
    line.setAttribute("id", "curve");
    svg.appendChild(line);
  }

  function loadtest(lt) {
    var body = document.getElementById("lt-body"), reports = document.getElementById("reports");
    if (!lt) return;
    var kv = [["phase", lt.phase], ["run", lt.run || "single"],
      ["elapsed", Math.round(lt.elapsed_s) + " / " + Math.round(lt.duration_s) + " s"],
      ["users", lt.users + " / " + lt.users_target], ["rate", rate(lt.rps) + " req/s"],
      ["requests", lt.requests], ["failures", lt.failures]];
    if (lt.steps && lt.steps.length) kv.push(["steps done", lt.steps.length]);
    body.className = "kv";
    body.innerHTML = "";
    kv.forEach(function (p) {
      var k = document.createElement("span"), v = document.createElement("span");
      k.textContent = p[0]; v.textContent = p[1]; v.id = "lt-" + p[0].replace(" ", "-");
      body.appendChild(k); body.appendChild(v);
    });
    chart(lt.steps);
    reports.innerHTML = "";
    if (lt.phase !== "running") {
      (lt.available || []).forEach(function (name) {
        var a = document.createElement("a");
        a.href = "report/" + name; a.textContent = name; a.target = "_blank";
        reports.appendChild(a);
      });
    }
  }

  function apply(frame) {
    var started = performance.now();
    document.getElementById("rate").textContent = rate(frame.arrival_rate);
    document.getElementById("method").textContent = frame.method || "—";
    document.getElementById("window").textContent = frame.window_s ? frame.window_s.toFixed(1) + " s" : "—";
    document.getElementById("seq").textContent = frame.sequence;
    document.getElementById("clock").textContent = new Date(frame.taken_at * 1000).toLocaleTimeString();
    var ct = document.querySelector("#components tbody"), lt = document.querySelector("#links tbody");
    frame.components.forEach(function (r) { paintNode(r); row(ct, r); });
    frame.links.forEach(function (r) { paintLink(r); row(lt, r); });
    loadtest(frame.loadtest);
    document.body.setAttribute("data-sequence", frame.sequence);
    // what one refresh costs the page (read by benchmarks/bench_dashboard.py)
    document.body.setAttribute("data-apply-ms", (performance.now() - started).toFixed(2));
  }

  function tick() {
    fetch("api/frame", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (f) {
      failures = 0;
      document.getElementById("stale").style.display = "none";
      apply(f);
    }).catch(function () {
      failures += 1;
      if (failures > 1) document.getElementById("stale").style.display = "inline";
    }).finally(function () { setTimeout(tick, config.refresh_s * 1000); });
  }
  tick();
})();
