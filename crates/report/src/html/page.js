// The report's table and ladders. The rows come as JSON (#data); the DOM holds one page of them at a
// time, so a capture of 100,000 connections sorts and filters as fast as one of 100. Ladders (#ladders)
// are SVG drawn and escaped by tcpdoctor itself. State lives in the URL's fragment (#ladder=ROW,
// #cause=NAME) so that a view can be linked to.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const ladders = JSON.parse(document.getElementById("ladders").textContent);
  const PAGE = 100;
  const $ = (id) => document.getElementById(id);
  const tbody = document.querySelector("#conns tbody");
  if (!tbody) return; // no connection: no table
  const view = { order: [], sort: 0, desc: false, page: 0 };
  const who = ["", "client", "server"];
  const port = (a) => a.slice(a.lastIndexOf(":") + 1);
  const host = (a) => a.slice(0, a.lastIndexOf(":"));
  const cell = (r, c) =>
    c === 5 ? data.causes[r[5]] : c === 6 || c === 7 ? data.states[r[c]] : c === 8 ? who[r[8]] : r[c];

  function filter() {
    const cause = $("f-cause").value, state = $("f-state").value;
    const addr = $("f-addr").value.trim(), p = $("f-port").value.trim();
    const text = $("f-text").value.trim().toLowerCase();
    const out = [];
    data.rows.forEach((r, i) => {
      if (cause && data.causes[r[5]] !== cause) return;
      if (state && data.states[r[6]] !== state && data.states[r[7]] !== state) return;
      if (addr && !host(r[3]).includes(addr) && !host(r[4]).includes(addr)) return;
      if (p && port(r[3]) !== p && port(r[4]) !== p) return;
      if (text) {
        const hay = [r[3], r[4], data.causes[r[5]], data.states[r[6]], data.states[r[7]], who[r[8]]].join(" ");
        if (!hay.toLowerCase().includes(text)) return;
      }
      out.push(i);
    });
    view.order = out;
    sort();
  }

  function sort() {
    const c = view.sort, sign = view.desc ? -1 : 1;
    const key = (i) => { const v = cell(data.rows[i], c); return v === null ? -1 : v; };
    view.order.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : a - b) * sign; });
    document.querySelectorAll("#conns th").forEach((th) => {
      th.className = Number(th.dataset.col) === c ? (view.desc ? "desc" : "asc") : "";
    });
    view.page = 0;
    render();
  }

  function render() {
    const pages = Math.max(1, Math.ceil(view.order.length / PAGE));
    view.page = Math.min(view.page, pages - 1);
    const frag = document.createDocumentFragment();
    for (const i of view.order.slice(view.page * PAGE, (view.page + 1) * PAGE)) {
      const r = data.rows[i], tr = document.createElement("tr");
      tr.dataset.row = r[0];
      if (r[13]) tr.className = "has-ladder";
      for (let c = 0; c <= 12; c++) {
        const td = document.createElement("td");
        const v = cell(r, c);
        td.textContent = v === null ? "" : c === 1 || c === 2 ? v.toFixed(6) : v;
        if (c === 5) td.className = "cause-" + v;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    $("count").textContent = view.order.length + " of " + data.rows.length + " connections";
    $("page").textContent = "page " + (view.page + 1) + " of " + pages;
  }

  function openLadder(row) {
    const svg = ladders[String(row)];
    const r = data.rows[row - 1];
    if (!r) return;
    $("ladder-title").textContent = "connection #" + row + ": " + r[3] + " → " + r[4] + " (" + data.causes[r[5]] + ")";
    if (svg) {
      $("ladder-body").innerHTML = svg; // drawn and escaped by tcpdoctor
    } else {
      const p = document.createElement("p");
      p.textContent = "No ladder kept for this connection (see the note above the table). Draw it with: tcpdoctor analyze FILE --ladder " + row;
      $("ladder-body").replaceChildren(p);
    }
    const d = $("ladder");
    if (!d.open) d.showModal();
  }

  function fromHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.has("cause")) { $("f-cause").value = h.get("cause"); filter(); }
    if (h.has("ladder")) openLadder(Number(h.get("ladder")));
  }

  for (const id of ["f-cause", "f-state", "f-addr", "f-port", "f-text"]) $(id).addEventListener("input", filter);
  document.querySelectorAll("#conns th").forEach((th) => th.addEventListener("click", () => {
    const c = Number(th.dataset.col);
    view.desc = view.sort === c ? !view.desc : c >= 1 && c !== 3 && c !== 4;
    view.sort = c;
    sort();
  }));
  tbody.addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (tr) openLadder(Number(tr.dataset.row));
  });
  document.querySelectorAll("a.example").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    openLadder(Number(a.dataset.row));
  }));
  $("prev").addEventListener("click", () => { view.page = Math.max(0, view.page - 1); render(); });
  $("next").addEventListener("click", () => { view.page += 1; render(); });
  $("close").addEventListener("click", () => $("ladder").close());
  window.addEventListener("hashchange", fromHash);
  filter();
  fromHash();
  // How long the page took to become usable, for BENCHMARKS.md (`chromium --dump-dom` reads it).
  $("ready").textContent = "Page ready " + Math.round(performance.now()) + " ms after it began loading.";
})();
