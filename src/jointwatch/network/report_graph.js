// The offline report's flow graph (cytoscape.js, inlined beside this script). Money flows left to
// right into the designated accounts; each column is one distance in payments from them. A large
// trace opens grouped: one node per (distance, country) for the accounts other than designated
// accounts, collectors and brokers, with its number of accounts and the USD they originated;
// clicking a group expands it into its accounts. Links carry the traced USD as their label, summed
// over the accounts a drawn node stands for. Every figure comes from the page's JSON data block
// (account ids and names are text on a canvas or in textContent, never markup).
"use strict";

(function () {
  const block = document.getElementById("flow-data");
  const holder = document.getElementById("flow-graph");
  if (!block || !holder || typeof cytoscape !== "function") return;
  const data = JSON.parse(block.textContent);
  const colours = data.colours || {};
  const accounts = new Map(data.accounts.map((a) => [a.id, a]));
  const groups = new Map(data.groups.map((g) => [g.id, g]));
  const expanded = new Set(data.grouped ? [] : data.groups.map((g) => g.id));
  const ROWS = 14;        // rows a column holds before its nodes stand side by side
  const ROW = 78;         // vertical distance between nodes
  const SUB = 175;        // horizontal distance between sub-columns of one distance
  const GAP = 270;        // horizontal distance between distances

  const usd = (value, digits) => value.toLocaleString("en", { minimumFractionDigits: digits,
                                                             maximumFractionDigits: digits });
  const size = (amount) => 16 + 7 * Math.log10(1 + amount);
  const drawn = (a) => (a.group && !expanded.has(a.group) ? "group:" + a.group : a.id);

  function accountLabel(a) {
    const lines = [a.id + " · " + a.country.toUpperCase()];
    if (a.role === "designated") lines.push("received " + usd(a.in, 0) + " USD");
    else if (a.role !== "originator") lines.push(a.role + ", " + usd(a.in, 0) + " USD in");
    if (a.originated >= 0.5) lines.push("originated " + usd(a.originated, 0) + " USD");
    return lines.join("\n");
  }

  function groupLabel(g) {
    const lines = [g.country.toUpperCase() + " · " + g.accounts + " accounts"];
    if (g.originated > 0) lines.push("originated " + usd(g.originated, 0) + " USD");
    if (g.in > 0) lines.push("passed on " + usd(g.out, 0) + " USD");
    if (g.role !== "originator") lines[0] += " (" + g.role + ")";
    return lines.join("\n");
  }

  function elements() {
    const nodes = new Map();
    data.accounts.forEach((a) => {
      const id = drawn(a);
      if (nodes.has(id)) return;
      if (id.startsWith("group:")) {
        const g = groups.get(a.group);
        nodes.set(id, { id: id, kind: "group", group: g.id, level: g.level, country: g.country,
                        label: groupLabel(g), colour: colours[g.role] || colours.originator,
                        weight: g.originated + g.in, originated: g.originated, size: size(g.originated + g.in) + 10 });
      } else {
        nodes.set(id, { id: id, kind: "account", group: a.group || "", level: a.level, country: a.country,
                        label: accountLabel(a), colour: colours[a.role] || colours.originator,
                        weight: a.originated + a.in, originated: a.originated, size: size(a.originated + a.in) });
      }
    });
    const edges = new Map();
    data.links.forEach((l) => {
      const source = drawn(accounts.get(l.source));
      const target = drawn(accounts.get(l.target));
      if (source === target) return;  // a link inside one group: shown when the group is expanded
      const key = source + "\u0000" + target;
      const edge = edges.get(key) || { id: "e" + edges.size, source: source, target: target, amount: 0, payments: 0 };
      edge.amount += l.amount;
      edge.payments += l.payments;
      edges.set(key, edge);
    });
    // columns: one per distance, split into sub-columns of ROWS nodes, heaviest first
    const levels = new Map();
    nodes.forEach((n) => {
      if (!levels.has(n.level)) levels.set(n.level, []);
      levels.get(n.level).push(n);
    });
    // a node's height is the mean height of the nodes it pays (weighted by USD), so that a group
    // stands beside the collector it paid and links cross as little as they can
    const pays = new Map();
    edges.forEach((e) => {
      if (!pays.has(e.source)) pays.set(e.source, []);
      pays.get(e.source).push(e);
    });
    let x = 0;
    const out = [];
    [...levels.keys()].sort((a, b) => a - b).forEach((level) => {
      const column = levels.get(level);
      column.forEach((n) => {
        let sum = 0;
        let weight = 0;
        (pays.get(n.id) || []).forEach((e) => {
          const target = nodes.get(e.target);
          if (target.y === undefined || target.level >= level) return;
          sum += target.y * e.amount;
          weight += e.amount;
        });
        n.bary = weight > 0 ? sum / weight : 0;
      });
      // the accounts of an expanded group stay together, where the group stood
      const together = new Map();
      column.forEach((n) => {
        if (n.kind !== "account" || !n.group) return;
        const t = together.get(n.group) || { sum: 0, count: 0 };
        t.sum += n.bary;
        t.count += 1;
        together.set(n.group, t);
      });
      column.forEach((n) => {
        if (n.kind === "account" && n.group) n.bary = together.get(n.group).sum / together.get(n.group).count;
      });
      column.sort((a, b) => a.bary - b.bary || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0) ||
                            b.weight - a.weight || (a.id < b.id ? -1 : 1));
      const subs = Math.ceil(column.length / ROWS);
      const rows = Math.ceil(column.length / subs);
      column.forEach((n, k) => {
        const row = Math.floor(k / subs);
        n.x = x - (k % subs) * SUB - (row % 2) * (subs > 1 ? SUB / 2 : 0);
        n.y = (row - (rows - 1) / 2) * ROW;
      });
      out.push({ group: "nodes", classes: "heading", selectable: false, grabbable: false,
                 data: { id: "heading-" + level, label: level === 0 ? "designated" : level + (level === 1
                   ? " payment away" : " payments away") },
                 position: { x: x - (subs - 0.5) * SUB / 2, y: -((rows - 1) / 2 + 0.9) * ROW } });
      x -= (subs - 0.5) * SUB + GAP;
    });
    nodes.forEach((n) => out.push({ group: "nodes", classes: n.kind, data: n, position: { x: n.x, y: n.y } }));
    edges.forEach((e) => {
      e.label = usd(e.amount, 0);
      e.width = 1 + 1.2 * Math.log10(1 + e.amount);
      out.push({ group: "edges", data: e });
    });
    return out;
  }

  const cy = cytoscape({
    container: holder,
    elements: [],
    wheelSensitivity: 0.4,
    minZoom: 0.05,
    maxZoom: 2.5,
    autoungrabify: true,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", label: "data(label)", "font-size": 10, "text-valign": "bottom",
        "text-halign": "center", "text-wrap": "wrap", "text-margin-y": 3, width: "data(size)",
        height: "data(size)", "border-width": 1, "border-color": "#333", "text-background-color": "#fff",
        "text-background-opacity": 0.8 } },
      { selector: "node.group", style: { shape: "round-rectangle", "border-width": 2, "border-style": "double" } },
      { selector: "node.heading", style: {
        "background-opacity": 0, "border-width": 0, width: 1, height: 1, "font-size": 14, "font-weight": "bold",
        "text-valign": "center", color: "#555" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#111" } },
      { selector: "node.expanded", style: { "border-width": 4, "border-color": "#d62728" } },
      { selector: "edge", style: {
        width: "data(width)", "line-color": "#8a94a3", "target-arrow-color": "#8a94a3", "line-opacity": 0.6,
        "target-arrow-shape": "triangle", "curve-style": "straight", "arrow-scale": 0.8, label: "data(label)",
        "font-size": 9, color: "#333", "text-rotation": "autorotate", "text-background-color": "#fff",
        "text-background-opacity": 0.85, "text-background-padding": 1 } },
    ],
  });

  const details = document.getElementById("flow-details");

  function show(lines) {
    if (!details) return;
    details.replaceChildren();
    lines.forEach((text) => {
      const p = document.createElement("p");
      p.textContent = text;
      details.appendChild(p);
    });
  }

  function draw(fit) {
    cy.elements().remove();
    cy.add(elements());
    if (fit) cy.fit(undefined, 30);
    holder.dataset.groups = String(cy.nodes(".group").length);
    holder.dataset.accounts = String(cy.nodes(".account").length);
  }

  cy.on("tap", "node.group", (event) => {
    const g = groups.get(event.target.data("group"));
    expanded.add(g.id);
    draw(false);
    const inside = cy.nodes(".account").filter((n) => n.data("group") === g.id);
    inside.addClass("expanded");
    cy.animate({ fit: { eles: inside, padding: 120 }, duration: 200 });
    show([g.country.toUpperCase() + ", " + g.level + " payments from a designated account: " + g.accounts +
          " accounts (" + g.originators + " originators) expanded.",
          "Originated " + usd(g.originated, 2) + " USD (" + data.method + "); traced in " + usd(g.in, 2) +
          " USD, out " + usd(g.out, 2) + " USD."]);
  });
  cy.on("tap", "node.account", (event) => {
    const a = accounts.get(event.target.id());
    show([a.id + (a.name ? " · " + a.name : "") + " · " + a.country.toUpperCase() + " · " + a.role,
          "Originated " + usd(a.originated, 2) + " USD (" + data.method + "); traced in " + usd(a.in, 2) +
          " USD, out " + usd(a.out, 2) + " USD."]);
  });
  cy.on("tap", "edge", (event) => {
    const e = event.target.data();
    show([e.source.replace(/^group:g/, "group ") + " → " + e.target.replace(/^group:g/, "group ") + ": " +
          usd(e.amount, 2) + " USD traced in " + e.payments + " payments."]);
  });
  const expandAll = document.getElementById("flow-expand-all");
  if (expandAll) expandAll.addEventListener("click", () => { data.groups.forEach((g) => expanded.add(g.id)); draw(true); });
  const groupAll = document.getElementById("flow-group-all");
  if (groupAll) groupAll.addEventListener("click", () => { expanded.clear(); draw(true); });
  draw(true);
  holder.dataset.ready = "true";
  // the tests, and a curious analyst, may read what is drawn
  window.jointwatchReportGraph = cy;
})();
