/* latentgraph explorer: the page's behaviour. Drawing is sigma.js (WebGL) on graphology
   graphs; shortest paths are graphology-library's. All data is the inline JSON (#lg-data),
   computed in Python (latentgraph/explore/data.py). */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("lg-data").textContent);
  var GraphCls = graphology.Graph || graphology;
  var SigmaCls = typeof Sigma === "function" ? Sigma : (Sigma.Sigma || Sigma.default);
  var lib = graphologyLibrary;
  var api = window.explorer = { ready: false, times: {}, views: {}, selected: null, selectedClass: null, path: null };

  // ------------------------------------------------------------------ colours
  var CAT10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var CAT20 = CAT10.concat(["#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"]);
  var VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  var REDGREEN = [[215, 48, 39], [252, 141, 89], [254, 224, 139], [145, 207, 96], [26, 152, 80]];
  function hex2(v) { var s = Math.round(Math.max(0, Math.min(255, v))).toString(16); return s.length < 2 ? "0" + s : s; }
  function rgbHex(c) { return "#" + hex2(c[0]) + hex2(c[1]) + hex2(c[2]); }
  function hslHex(h, s, l) {
    var a = s * Math.min(l, 1 - l);
    function f(n) { var k = (n + h / 30) % 12; return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))); }
    return rgbHex([f(0), f(8), f(4)]);
  }
  function category(i, n) {
    if (n <= 10) return CAT10[i % 10];
    if (n <= 20) return CAT20[i % 20];
    return hslHex((i * 137.508) % 360, 0.62, 0.48 + 0.1 * ((i * 7) % 3) / 2);
  }
  function ramp(stops, t) {
    if (t === null || t === undefined || isNaN(t)) return "#bbbbbb";
    t = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    var i = Math.min(Math.floor(t), stops.length - 2), f = t - i, a = stops[i], b = stops[i + 1];
    return rgbHex([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])]);
  }
  function rampCss(stops) { return "linear-gradient(to right," + stops.map(function (c) { return rgbHex(c); }).join(",") + ")"; }
  var DIM = "#e3e6ea";
  function fade(hex, f) {  // mix a #rrggbb colour with white: f = 0 keeps it, 1 gives white
    var n = parseInt(hex.slice(1), 16), c = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    return rgbHex(c.map(function (v) { return v + f * (255 - v); }));
  }

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else if (k === "cls") e.className = attrs[k];
      else if (k === "onclick") e.addEventListener("click", attrs[k]); else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function fmt(v, d) { return v === null || v === undefined || (typeof v === "number" && isNaN(v)) ? "–" : (typeof v === "number" ? v.toFixed(d === undefined ? 3 : d) : String(v)); }
  var classNames = DATA.class_names || [];
  function className(label) { return label < classNames.length ? classNames[label] : String(label); }
  function note(text) { document.getElementById("lg-notes").appendChild(el("span", { cls: "lg-note", text: text })); }
  (DATA.notes || []).forEach(note);

  // ------------------------------------------------------------------ thumbnails
  var atlas = DATA.thumbnails;
  if (atlas) {
    var css = atlas.pages.map(function (uri, p) { return ".lg-atlas-" + p + "{background-image:url(" + uri + ")}"; }).join("\n");
    document.head.appendChild(el("style", { text: css }));
  }
  function thumb(row, px) {
    if (!atlas || atlas.index[row] < 0) return null;
    var cell = atlas.index[row], per = atlas.grid * atlas.grid, page = Math.floor(cell / per), j = cell % per;
    var r = Math.floor(j / atlas.grid), c = j % atlas.grid, f = px / atlas.cell;
    var d = el("span", { cls: "lg-thumb lg-atlas-" + page });
    d.style.width = px + "px"; d.style.height = px + "px";
    d.style.backgroundSize = (atlas.grid * atlas.cell * f) + "px auto";
    d.style.backgroundPosition = (-c * atlas.cell * f) + "px " + (-r * atlas.cell * f) + "px";
    return d;
  }
  var tooltip = document.getElementById("lg-tooltip");
  function showTooltip(ev, content) {
    tooltip.innerHTML = ""; content.forEach(function (c) { if (c) tooltip.appendChild(c); });
    tooltip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 230 > window.innerWidth) x = ev.clientX - 230;
    if (y + 200 > window.innerHeight) y = ev.clientY - 200;
    tooltip.style.left = x + "px"; tooltip.style.top = y + "px";
  }
  function hideTooltip() { tooltip.hidden = true; }

  function legendItems(box, items) {
    box.innerHTML = "";
    items.forEach(function (it) {
      if (it.ramp) {
        box.appendChild(el("span", { cls: "lg-item" }, [it.lo, (function () { var r = el("span", { cls: "lg-ramp" }); r.style.background = rampCss(it.ramp); return r; })(), it.hi, it.text ? " " + it.text : null]));
      } else {
        var sw = el("span", { cls: "lg-sw" }); sw.style.background = it.color;
        box.appendChild(el("span", { cls: "lg-item" }, [sw, it.text]));
      }
    });
  }
  function sigmaSettings(extra) {
    var s = { allowInvalidContainer: true, zIndex: true, labelFont: "system-ui, sans-serif", labelSize: 12,
      labelWeight: "500", defaultEdgeColor: "#c3c9d1", minCameraRatio: 0.02, maxCameraRatio: 4, renderEdgeLabels: false };
    Object.keys(extra || {}).forEach(function (k) { s[k] = extra[k]; });
    return s;
  }
  function pointer(ev) {
    var o = ev && ev.original ? ev.original : ev;
    return o && typeof o.clientX === "number" ? o : null;
  }

  // ------------------------------------------------------------------ class view
  var classView = null;
  function buildClassView() {
    var cv = DATA.class_view, container = document.getElementById("lg-class-canvas");
    var n = cv.name.length, g = new GraphCls({ type: "undirected", multi: false });
    var maxDeg = Math.max.apply(null, cv.degree.concat([1]));
    for (var i = 0; i < n; i++) {
      g.addNode(String(i), { x: cv.x[i], y: -cv.y[i], label: cv.name[i], size: 3 + 9 * Math.sqrt(cv.degree[i] / maxDeg), color: "#999" });
    }
    var E = cv.edges;
    for (var e = 0; e < E.source.length; e++) {
      var s = String(E.source[e]), t = String(E.target[e]);
      if (s !== t && !g.hasEdge(s, t)) g.addEdge(s, t, { distance: E.distance[e] === null ? 1 : E.distance[e], size: 1, color: "#c3c9d1" });
    }
    var comms = {}; cv.communities.forEach(function (c) { comms[c[0]] = c[1]; });
    var modes = cv.communities.map(function (c) { return "community: " + c[0]; });
    if (cv.accuracy.some(function (a) { return a !== null; })) modes.push("class accuracy");
    if (cv.within.some(function (a) { return a !== null; })) modes.push("within-class distance");
    var state = { mode: modes[0] || "none", selected: null, path: null, hover: null };
    var reducer = function (node, data) {
      var res = Object.assign({}, data);
      var focus = state.path ? state.pathSet : (state.selected !== null ? state.nbrSet : null);
      if (focus) {
        if (!focus.has(node)) { res.color = DIM; res.label = n > 60 ? null : data.label; res.zIndex = 0; }
        else { res.zIndex = 2; res.forceLabel = true; }
        if (node === state.selected || (state.path && (node === state.path[0] || node === state.path[state.path.length - 1]))) { res.highlighted = true; res.size = data.size * 1.4; }
      }
      if (node === state.hover) { res.forceLabel = true; }
      return res;
    };
    var edgeReducer = function (edge, data) {
      var res = Object.assign({}, data), ends = g.extremities(edge);
      if (state.path) {
        if (state.pathEdges.has(edge)) { res.color = "#111827"; res.size = 3; res.zIndex = 2; } else res.hidden = true;
      } else if (state.selected !== null) {
        if (ends[0] === state.selected || ends[1] === state.selected) { res.color = "#374151"; res.size = 2; res.zIndex = 2; } else res.hidden = n > 60;
      }
      return res;
    };
    var renderer = new SigmaCls(g, container, sigmaSettings({ nodeReducer: reducer, edgeReducer: edgeReducer,
      labelRenderedSizeThreshold: n > 150 ? 10 : 0, renderLabels: true }));
    var sel = document.getElementById("lg-class-colour");
    modes.forEach(function (m) { sel.appendChild(el("option", { value: m, text: m })); });
    sel.addEventListener("change", function () { setMode(sel.value); });
    var legend = document.getElementById("lg-class-legend");
    function setMode(mode) {
      state.mode = mode; sel.value = mode;
      if (mode.indexOf("community: ") === 0) {
        var m = comms[mode.slice(11)], nc = Math.max.apply(null, m) + 1;
        g.updateEachNodeAttributes(function (node, a) { a.color = category(m[+node], nc); return a; });
        var counts = new Array(nc).fill(0); m.forEach(function (c) { counts[c]++; });
        legendItems(legend, counts.slice(0, 24).map(function (c, i) { return { color: category(i, nc), text: "community " + i + " (" + c + ")" }; })
          .concat(nc > 24 ? [{ color: "#fff", text: "… " + (nc - 24) + " more" }] : []));
      } else if (mode === "class accuracy") {
        g.updateEachNodeAttributes(function (node, a) { a.color = ramp(REDGREEN, cv.accuracy[+node]); return a; });
        legendItems(legend, [{ ramp: REDGREEN, lo: "0", hi: "1", text: "class accuracy" }]);
      } else if (mode === "within-class distance") {
        var w = cv.within.filter(function (v) { return v !== null; }), lo = Math.min.apply(null, w), hi = Math.max.apply(null, w);
        g.updateEachNodeAttributes(function (node, a) { var v = cv.within[+node]; a.color = ramp(VIRIDIS, v === null ? null : (v - lo) / ((hi - lo) || 1)); return a; });
        legendItems(legend, [{ ramp: VIRIDIS, lo: fmt(lo, 1), hi: fmt(hi, 1), text: "within-class mean distance" }]);
      }
      legend.appendChild(el("div", { cls: "lg-muted", text: "size: degree · " + n + " classes, " + g.size + " edges" }));
      renderer.refresh();
    }
    var panel = document.getElementById("lg-class-panel");
    function link(i) { return el("span", { cls: "lg-link", "data-class": String(i), text: cv.name[i], onclick: function () { select(String(i), true); } }); }
    function community(i) { var m = state.mode.indexOf("community: ") === 0 ? state.mode.slice(11) : (cv.communities.length ? cv.communities[0][0] : null); return m ? { method: m, id: comms[m][i], of: comms[m] } : null; }
    function overview() {
      panel.innerHTML = "";
      panel.appendChild(el("h3", { text: "Class graph" }));
      panel.appendChild(el("p", { cls: "lg-muted", text: n + " classes, " + g.size + " edges (class kNN graph). Click a class for its neighbours and community; shift-click a second class (or use the boxes above) for the shortest path." }));
      panel.appendChild(el("h4", { text: "Hubs (highest degree)" }));
      var ol = el("ol", { id: "lg-hubs" });
      cv.hubs.forEach(function (i) { ol.appendChild(el("li", null, [link(i), el("span", { cls: "lg-muted", text: " degree " + cv.degree[i] })])); });
      panel.appendChild(ol);
    }
    function select(node, move) {
      state.path = null; state.selected = node; api.selectedClass = node === null ? null : +node; api.path = null;
      if (node === null) { state.nbrSet = null; overview(); renderer.refresh(); return; }
      var i = +node;
      state.nbrSet = new Set(g.neighbors(node).concat([node]));
      panel.innerHTML = "";
      panel.appendChild(el("h3", { id: "lg-class-name", text: cv.name[i] }));
      var rows = [["class accuracy", fmt(cv.accuracy[i], 3)], ["within-class distance", fmt(cv.within[i], 2)], ["degree", String(cv.degree[i])]];
      if (cv.n_samples) rows.push(["samples", String(cv.n_samples[i])]);
      var hubRank = cv.hubs.indexOf(i); if (hubRank >= 0) rows.push(["hub", "#" + (hubRank + 1)]);
      var c = community(i); if (c) rows.push([c.method + " community", String(c.id)]);
      panel.appendChild(el("table", null, rows.map(function (r) { return el("tr", null, [el("td", { text: r[0] }), el("td", { cls: "lg-num", text: r[1] })]); })));
      panel.appendChild(el("h4", { text: "Neighbours (mean distance)" }));
      var nb = g.neighbors(node).map(function (m) { return [+m, g.getEdgeAttribute(g.edge(node, m), "distance")]; });
      nb.sort(function (a, b) { return a[1] - b[1] || a[0] - b[0]; });
      var tb = el("table", { id: "lg-class-neighbours" });
      nb.forEach(function (p) { tb.appendChild(el("tr", { "data-class": String(p[0]) }, [el("td", null, [link(p[0])]), el("td", { cls: "lg-num", text: fmt(p[1], 2) })])); });
      panel.appendChild(tb);
      if (c) {
        var members = []; c.of.forEach(function (v, j) { if (v === c.id) members.push(j); });
        panel.appendChild(el("h4", { text: c.method + " community " + c.id + " (" + members.length + " classes)" }));
        var ul = el("ul", { id: "lg-class-community" }); members.forEach(function (j) { ul.appendChild(el("li", null, [link(j)])); });
        panel.appendChild(ul);
      }
      document.getElementById("lg-path-from").value = cv.name[i];
      renderer.refresh();
      if (move) { var d = renderer.getNodeDisplayData(node); renderer.getCamera().animate({ x: d.x, y: d.y, ratio: Math.min(renderer.getCamera().ratio, n > 150 ? 0.35 : 1) }, { duration: 300 }); }
    }
    var byName = {}; cv.name.forEach(function (nm, i) { byName[nm.toLowerCase()] = String(i); });
    function lookup(text) {
      text = (text || "").trim().toLowerCase(); if (!text) return null;
      if (byName[text] !== undefined) return byName[text];
      for (var i = 0; i < n; i++) if (cv.name[i].toLowerCase().indexOf(text) >= 0) return String(i);
      return null;
    }
    function showPath(a, b) {
      var p = null;
      try { p = lib.shortestPath.dijkstra.bidirectional(g, a, b, "distance"); } catch (err) { p = null; }
      state.selected = null; api.selectedClass = null;
      panel.innerHTML = "";
      panel.appendChild(el("h3", { text: "Shortest path" }));
      if (!p) {
        state.path = null; api.path = [];
        panel.appendChild(el("p", { id: "lg-path-none", text: "No path between " + cv.name[+a] + " and " + cv.name[+b] + ": different connected components." }));
        renderer.refresh(); return;
      }
      state.path = p; state.pathSet = new Set(p); state.pathEdges = new Set();
      var total = 0;
      for (var i = 0; i + 1 < p.length; i++) { var ed = g.edge(p[i], p[i + 1]); state.pathEdges.add(ed); total += g.getEdgeAttribute(ed, "distance"); }
      api.path = p.map(Number);
      panel.appendChild(el("p", { cls: "lg-muted", text: (p.length - 1) + " hops, total mean distance " + fmt(total, 2) + " (weighted by the edges' class distance)" }));
      var ol = el("ol", { id: "lg-path" }); p.forEach(function (v) { ol.appendChild(el("li", null, [link(+v)])); });
      panel.appendChild(ol);
      renderer.refresh();
    }
    document.getElementById("lg-path-go").addEventListener("click", function () {
      var a = lookup(document.getElementById("lg-path-from").value), b = lookup(document.getElementById("lg-path-to").value);
      if (a === null || b === null) { panel.innerHTML = ""; panel.appendChild(el("p", { text: "Type two class names (see the list) for a path." })); return; }
      showPath(a, b);
    });
    document.getElementById("lg-class-search").addEventListener("change", function (ev) { var v = lookup(ev.target.value); if (v !== null) select(v, true); });
    var dl = document.getElementById("lg-class-names"); cv.name.forEach(function (nm) { dl.appendChild(el("option", { value: nm })); });
    renderer.on("clickNode", function (ev) {
      var o = pointer(ev.event);
      if (o && o.shiftKey && state.selected !== null && state.selected !== ev.node) {
        document.getElementById("lg-path-to").value = cv.name[+ev.node]; showPath(state.selected, ev.node);
      } else select(ev.node, false);
    });
    renderer.on("clickStage", function () { select(null); });
    renderer.on("enterNode", function (ev) {
      state.hover = ev.node; var i = +ev.node, o = pointer(ev.event);
      if (o) showTooltip(o, [el("b", { text: cv.name[i] }), el("div", { cls: "lg-muted", text: "degree " + cv.degree[i] + " · accuracy " + fmt(cv.accuracy[i], 2) })]);
      renderer.refresh();
    });
    renderer.on("leaveNode", function () { state.hover = null; hideTooltip(); renderer.refresh(); });
    setMode(state.mode); overview();
    classView = { renderer: renderer, graph: g, select: select, showPath: showPath, setMode: setMode, lookup: lookup };
    api.views.classes = classView;
  }

  // ------------------------------------------------------------------ sample views
  var sampleViews = [];
  var sampleState = { selected: null, mode: null };
  function buildSampleViews() {
    var panels = DATA.samples, host = document.getElementById("lg-sample-panels");
    var ids = DATA.sample_id, N = ids.length;
    var nClasses = Math.max(classNames.length, Math.max.apply(null, panels[0].label) + 1);
    var rowOfId = new Map(); ids.forEach(function (s, i) { rowOfId.set(String(s), i); });
    var baseSize = N <= 2000 ? 4 : (N <= 20000 ? 2.2 : 1.4);
    panels.forEach(function (P, pi) {
      var wrap = el("div", { cls: "lg-canvas-wrap" });
      wrap.appendChild(el("h2", { text: P.title + " — k = " + P.k }));
      var canvas = el("div", { cls: "lg-canvas", id: "lg-sample-canvas-" + pi });
      var legend = el("div", { cls: "lg-legend", id: "lg-sample-legend-" + pi });
      wrap.appendChild(canvas); wrap.appendChild(legend); host.appendChild(wrap);
      var g = new GraphCls({ type: "directed", multi: false });
      for (var i = 0; i < N; i++) g.addNode(String(i), { x: P.x[i], y: -P.y[i], size: baseSize, color: "#999", label: null });
      var V = { P: P, graph: g, legend: legend, canvas: canvas, index: pi, nbrSet: null };
      V.neighbours = function (row) { return P.nbr.slice(row * P.k, row * P.k + P.k); };
      var reducer = function (node, data) {
        var s = sampleState.selected;
        if (s === null) return data;
        var res = Object.assign({}, data), r = +node;
        if (r === s) { res.size = Math.max(6, baseSize * 2.2); res.highlighted = true; res.zIndex = 3; res.label = "#" + ids[r]; res.forceLabel = true; }
        else if (V.nbrSet && V.nbrSet.has(r)) { res.size = Math.max(4.5, baseSize * 1.6); res.zIndex = 2; res.label = (sampleState.shared.has(r) ? "★ " : "") + "#" + ids[r]; res.forceLabel = true; }
        else { res.color = data.faded || DIM; res.zIndex = 0; }
        return res;
      };
      var edgeReducer = function (edge, data) {
        var res = Object.assign({}, data), t = +g.target(edge);
        res.color = sampleState.shared.has(t) ? "#b45309" : "#374151"; res.size = sampleState.shared.has(t) ? 2.5 : 1.5;
        return res;
      };
      V.renderer = new SigmaCls(g, canvas, sigmaSettings({ nodeReducer: reducer, edgeReducer: edgeReducer, renderLabels: true,
        labelRenderedSizeThreshold: 0, enableEdgeEvents: false, defaultEdgeType: "arrow", hideEdgesOnMove: false,
        // points keep their size on screen when zooming in, so a dense cluster opens up
        zoomToSizeRatioFunction: function () { return 1; } }));
      V.renderer.on("clickNode", function (ev) { selectSample(+ev.node, true); });
      V.renderer.on("clickStage", function () { selectSample(null); });
      V.renderer.on("enterNode", function (ev) {
        var r = +ev.node, o = pointer(ev.event); if (!o) return;
        var lab = P.label[r], pr = P.pred ? P.pred[r] : null;
        showTooltip(o, [thumb(r, 72), el("div", null, [el("b", { text: "#" + ids[r] + " " })]),
          el("div", { text: "label: " + className(lab) }),
          pr === null ? null : el("div", { cls: pr === lab ? "lg-ok" : "lg-bad", text: "prediction: " + className(pr) }),
          atlas ? null : el("div", { cls: "lg-muted", text: "(no thumbnails in this page)" })]);
      });
      V.renderer.on("leaveNode", hideTooltip);
      sampleViews.push(V);
    });
    // colour modes
    var modes = ["label"];
    if (panels[0].pred) modes.push("correct / wrong");
    if (panels[0].jaccard) modes.push("Jaccard vs the other graph");
    modes.push("k-occurrence");
    var sel = document.getElementById("lg-sample-colour");
    modes.forEach(function (m) { sel.appendChild(el("option", { value: m, text: m })); });
    sel.addEventListener("change", function () { setSampleMode(sel.value); });
    function setSampleMode(mode) {
      sampleState.mode = mode; sel.value = mode;
      sampleViews.forEach(function (V) {
        var P = V.P, col;
        if (mode === "label") {
          col = function (r) { return category(P.label[r], nClasses); };
          var items = []; for (var c = 0; c < Math.min(nClasses, 20); c++) items.push({ color: category(c, nClasses), text: className(c) });
          if (nClasses > 20) items.push({ color: "#fff", text: "… " + (nClasses - 20) + " more classes" });
          legendItems(V.legend, items);
        } else if (mode === "correct / wrong") {
          col = function (r) { return P.pred[r] === P.label[r] ? "#1a9850" : "#d73027"; };
          var wrong = 0; for (var r = 0; r < N; r++) if (P.pred[r] !== P.label[r]) wrong++;
          legendItems(V.legend, [{ color: "#1a9850", text: "correct (" + (N - wrong) + ")" }, { color: "#d73027", text: "wrong (" + wrong + ")" }]);
        } else if (mode === "Jaccard vs the other graph") {
          col = function (r) { return ramp(VIRIDIS, P.jaccard[r]); };
          var mean = P.jaccard.reduce(function (a, b) { return a + b; }, 0) / N;
          legendItems(V.legend, [{ ramp: VIRIDIS, lo: "0", hi: "1", text: "per-sample Jaccard (mean " + fmt(mean, 3) + ")" }]);
        } else {
          var mx = Math.max.apply(null, P.kocc), lm = Math.log(1 + mx);
          col = function (r) { return ramp(VIRIDIS, Math.log(1 + P.kocc[r]) / (lm || 1)); };
          legendItems(V.legend, [{ ramp: VIRIDIS, lo: "0", hi: String(mx), text: "k-occurrence (log scale; k = " + P.k + ")" }]);
        }
        V.graph.updateEachNodeAttributes(function (node, a) { a.color = col(+node); a.faded = fade(a.color, 0.78); return a; });
        V.renderer.refresh();
      });
      api.sampleMode = mode;
    }
    // the side panel
    var panel = document.getElementById("lg-sample-panel");
    function overview() {
      panel.innerHTML = "";
      panel.appendChild(el("h3", { text: "Samples" }));
      panel.appendChild(el("p", { cls: "lg-muted", text: N + " test samples" + (sampleViews.length > 1 ? ", two graphs of the same samples side by side (linked selection: a click shows the sample's neighbours in both; shared ones marked ★)." : ".") + " Each point is a sample in a 2-D layout (UMAP of its latents on the kNN graph)." }));
      if (!atlas) panel.appendChild(el("p", { id: "lg-no-thumbnails", cls: "lg-muted", text: DATA.thumbnail_note || "This page has no thumbnails." }));
    }
    function card(r, shared) {
      var lab = sampleViews[0].P.label[r];
      return el("div", { cls: "lg-card" + (shared ? " lg-shared" : ""), "data-row": String(r), "data-id": String(ids[r]), title: "sample " + ids[r],
        onclick: function () { selectSample(r, true); } }, [thumb(r, 56), el("div", { text: (shared ? "★ " : "") + "#" + ids[r] }), el("div", { cls: "lg-muted", text: className(lab) })]);
    }
    function selectSample(row, move) {
      var t0 = performance.now();
      try { selectSampleNow(row, move); } finally { api.times.select_ms = performance.now() - t0; }
    }
    function selectSampleNow(row, move) {
      sampleState.selected = row; api.selected = row === null ? null : ids[row];
      sampleState.shared = new Set();
      sampleViews.forEach(function (V) { V.graph.clearEdges(); V.nbrSet = null; });
      if (row === null) { overview(); sampleViews.forEach(function (V) { V.renderer.refresh(); }); return; }
      var sets = sampleViews.map(function (V) { return new Set(V.neighbours(row)); });
      if (sets.length > 1) sets[0].forEach(function (r) { if (sets[1].has(r)) sampleState.shared.add(r); });
      sampleViews.forEach(function (V, i) {
        V.nbrSet = sets[i];
        V.neighbours(row).forEach(function (r) { if (!V.graph.hasEdge(String(row), String(r))) V.graph.addEdge(String(row), String(r)); });
        V.renderer.refresh();
      });
      var P0 = sampleViews[0].P, lab = P0.label[row];
      panel.innerHTML = "";
      var head = el("div", { cls: "lg-sample-head" }, [thumb(row, 96)]);
      panel.appendChild(head);
      panel.appendChild(el("h3", { id: "lg-sample-title", text: "Sample #" + ids[row] }));
      var rows = [["label", className(lab)]];
      sampleViews.forEach(function (V) {
        var pre = sampleViews.length > 1 ? V.P.title + ": " : "";
        if (V.P.pred) rows.push([pre + "prediction", className(V.P.pred[row]) + (V.P.pred[row] === lab ? " ✓" : " ✗")]);
        rows.push([pre + "k-occurrence", String(V.P.kocc[row])]);
        if (V.P.jaccard) rows.push([pre + "Jaccard vs other", fmt(V.P.jaccard[row], 3)]);
      });
      panel.appendChild(el("table", null, rows.map(function (r) { return el("tr", null, [el("td", { text: r[0] }), el("td", { cls: "lg-num", text: r[1] })]); })));
      sampleViews.forEach(function (V, i) {
        panel.appendChild(el("h4", { text: "k = " + V.P.k + " nearest in " + V.P.title + (sampleViews.length > 1 ? " (★ shared: " + sampleState.shared.size + ")" : "") }));
        var grid = el("div", { cls: "lg-nbrs", id: "lg-nbrs-" + i });
        V.neighbours(row).forEach(function (r) { grid.appendChild(card(r, sampleState.shared.has(r))); });
        panel.appendChild(grid);
      });
      // zoom so that the sample and its neighbours fill about a third of each panel
      if (move) sampleViews.forEach(function (V) {
        var d = V.renderer.getNodeDisplayData(String(row)), far = 0;
        V.neighbours(row).forEach(function (r) { var e = V.renderer.getNodeDisplayData(String(r)); far = Math.max(far, Math.abs(e.x - d.x), Math.abs(e.y - d.y)); });
        var ratio = Math.min(V.renderer.getCamera().ratio, Math.max(0.02, 3 * far));
        V.renderer.getCamera().animate({ x: d.x, y: d.y, ratio: ratio }, { duration: 300 });
      });
    }
    document.getElementById("lg-sample-clear").addEventListener("click", function () { selectSample(null); });
    document.getElementById("lg-sample-search").addEventListener("change", function (ev) {
      var r = rowOfId.get(ev.target.value.trim()); if (r !== undefined) selectSample(r, true);
    });
    setSampleMode(modes[0]); overview();
    api.views.samples = sampleViews;
    api.sampleIds = ids;
    api.selectSample = function (id) { var r = rowOfId.get(String(id)); selectSample(r === undefined ? null : r, true); };
    api.setSampleMode = setSampleMode;
    api.sampleModes = modes;
  }

  // ------------------------------------------------------------------ positions for tests and the benchmark
  api.screenPosition = function (view, key) {
    var r = view === "classes" ? classView.renderer : sampleViews[view].renderer;
    var d = r.getNodeDisplayData(String(key)), p = r.framedGraphToViewport(d), box = r.getContainer().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  };

  // ------------------------------------------------------------------ tabs
  var built = {};
  function show(tab) {
    document.querySelectorAll(".lg-view").forEach(function (v) { v.classList.toggle("lg-active", v.id === "lg-view-" + tab); });
    document.querySelectorAll(".lg-tab").forEach(function (b) { b.setAttribute("aria-selected", String(b.dataset.tab === tab)); });
    if (!built[tab]) {
      built[tab] = true;
      var t = performance.now();
      if (tab === "classes") buildClassView(); else buildSampleViews();
      var rs = tab === "classes" ? [classView.renderer] : sampleViews.map(function (V) { return V.renderer; });
      var pending = rs.length;
      rs.forEach(function (r) {
        r.once("afterRender", function () {
          if (--pending === 0) { api.times[tab] = performance.now(); api.times[tab + "_build_ms"] = performance.now() - t; api.ready = true; api.tab = tab; }
        });
        r.refresh();
      });
    } else {
      (tab === "classes" ? [classView.renderer] : sampleViews.map(function (V) { return V.renderer; })).forEach(function (r) { r.resize(); r.refresh(); });
    }
    api.tab = tab;
  }
  api.show = show;
  var tabs = { classes: !!DATA.class_view, samples: !!(DATA.samples && DATA.samples.length) };
  if (!tabs.classes) document.getElementById("lg-tab-classes").title = "no class graph in this page";
  document.querySelectorAll(".lg-tab").forEach(function (b) {
    b.disabled = !tabs[b.dataset.tab];
    b.addEventListener("click", function () { api.ready = false; show(b.dataset.tab); if (api.times[b.dataset.tab]) api.ready = true;
      try { history.replaceState(null, "", "#" + b.dataset.tab); } catch (err) { /* a data: or sandboxed page (the report) */ } });
  });
  var first = (location.hash || "").replace("#", "");
  if (!tabs[first]) first = tabs.classes ? "classes" : "samples";
  show(first);
})();
