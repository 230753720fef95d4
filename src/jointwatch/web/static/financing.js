// The console's flow graph of a trace (cytoscape.js): opens on the designated accounts and who paid
// them; selecting an account (a click, or the list beside the graph) expands it and lists its traced
// flows in and out, each counterparty a button that follows the money on. The graph comes from the
// page's JSON data block (not executed, so the CSP allows it); nothing here builds markup from strings.
"use strict";

(function () {
  const block = document.getElementById("flow-data");
  const holder = document.getElementById("flow-graph");
  if (!block || !holder || typeof cytoscape !== "function") return;
  const data = JSON.parse(block.textContent);
  const colours = data.colours || {};
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const incoming = new Map();
  const outgoing = new Map();
  data.edges.forEach((e, k) => {
    e.key = "e" + k;
    if (!incoming.has(e.target)) incoming.set(e.target, []);
    if (!outgoing.has(e.source)) outgoing.set(e.source, []);
    incoming.get(e.target).push(e);
    outgoing.get(e.source).push(e);
  });

  // columns by distance from the designated accounts (right), heaviest in the middle of each column
  const columns = new Map();
  data.nodes.forEach((n) => {
    if (!columns.has(n.level)) columns.set(n.level, []);
    columns.get(n.level).push(n);
  });
  const position = new Map();
  columns.forEach((nodes, level) => {
    nodes.sort((a, b) => b.amount - a.amount || (a.id < b.id ? -1 : 1));
    nodes.forEach((n, k) => {
      const offset = (k % 2 === 0 ? 1 : -1) * Math.ceil(k / 2);
      position.set(n.id, { x: -level * 220, y: offset * 56 });
    });
  });

  const usd = (value) => value.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const size = (amount) => 18 + 8 * Math.log10(1 + amount);

  const cy = cytoscape({
    container: holder,
    elements: [],
    wheelSensitivity: 0.4,
    minZoom: 0.05,
    maxZoom: 1.6,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", label: "data(id)", "font-size": 11, "text-valign": "bottom",
        "text-margin-y": 3, width: "data(size)", height: "data(size)", "border-width": 1, "border-color": "#333" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#111" } },
      { selector: "edge", style: {
        width: "data(width)", "line-color": "#8a94a3", "target-arrow-color": "#8a94a3",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8 } },
    ],
  });

  function addNode(id) {
    if (!cy.getElementById(id).empty() || !byId.has(id)) return;
    const n = byId.get(id);
    cy.add({ group: "nodes", data: { id: id, colour: colours[n.role] || "#2b8cbe", size: size(n.amount) },
             position: Object.assign({}, position.get(id)) });
  }

  function addEdge(e) {
    if (!cy.getElementById(e.key).empty()) return;
    addNode(e.source);
    addNode(e.target);
    cy.add({ group: "edges", data: { id: e.key, source: e.source, target: e.target,
                                     width: 1 + Math.log10(1 + e.amount) } });
  }

  function expand(id) {
    (incoming.get(id) || []).forEach(addEdge);
    (outgoing.get(id) || []).forEach(addEdge);
  }

  function start() {
    cy.elements().remove();
    data.designated.forEach((id) => { addNode(id); (incoming.get(id) || []).forEach(addEdge); });
    cy.fit(undefined, 30);
  }

  const panel = document.getElementById("flow-flows");
  const picker = document.getElementById("flow-account");

  function flowTable(title, flows, other) {
    const wrap = document.createElement("div");
    const h = document.createElement("h4");
    h.textContent = title + " (" + flows.length + ")";
    wrap.appendChild(h);
    if (!flows.length) {
      const p = document.createElement("p");
      p.textContent = "None traced.";
      wrap.appendChild(p);
      return wrap;
    }
    const table = document.createElement("table");
    table.className = "flows " + (other === "source" ? "flows-in" : "flows-out");
    const head = table.createTHead().insertRow();
    [other === "source" ? "From" : "To", "USD", "Payments"].forEach((label) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      head.appendChild(th);
    });
    const body = table.createTBody();
    flows.slice().sort((a, b) => b.amount - a.amount).forEach((e) => {
      const row = body.insertRow();
      row.className = "flow";
      row.dataset.account = e[other];
      const cell = row.insertCell();
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      const peer = byId.get(e[other]);
      button.textContent = e[other] + (peer && peer.name ? " · " + peer.name : "");
      button.addEventListener("click", () => select(e[other], true));
      cell.appendChild(button);
      row.insertCell().textContent = usd(e.amount);
      row.insertCell().textContent = String(e.payments);
    });
    wrap.appendChild(table);
    return wrap;
  }

  function select(id, centre) {
    const n = byId.get(id);
    if (!n) return;
    addNode(id);
    expand(id);
    cy.elements().unselect();
    const node = cy.getElementById(id);
    node.select();
    // the account with the accounts it just brought in, in view (a click keeps the analyst's framing)
    if (centre) cy.animate({ fit: { eles: node.closedNeighborhood(), padding: 40 }, duration: 200 });
    picker.value = id;
    panel.replaceChildren();
    const title = document.createElement("p");
    title.className = "flow-account";
    title.dataset.account = id;
    const strong = document.createElement("strong");
    strong.textContent = id;
    title.appendChild(strong);
    title.appendChild(document.createTextNode(
      (n.name ? " · " + n.name : "") + " · " + n.country.toUpperCase() + " · " + n.role + " · " + usd(n.amount) +
      " USD traced"));
    panel.appendChild(title);
    panel.appendChild(flowTable("Money in", incoming.get(id) || [], "source"));
    panel.appendChild(flowTable("Money out", outgoing.get(id) || [], "target"));
  }

  cy.on("tap", "node", (event) => select(event.target.id(), false));
  picker.addEventListener("change", () => { if (picker.value) select(picker.value, true); });
  document.getElementById("flow-all").addEventListener("click", () => {
    data.edges.forEach(addEdge);
    data.nodes.forEach((n) => addNode(n.id));
    cy.fit(undefined, 30);
  });
  document.getElementById("flow-reset").addEventListener("click", () => {
    start();
    picker.value = "";
    panel.replaceChildren();
    const p = document.createElement("p");
    p.textContent = "No account selected.";
    panel.appendChild(p);
  });
  start();
  holder.dataset.ready = "true";
  // the test and a curious analyst may read what is drawn
  window.jointwatchFlowGraph = cy;
})();
