/* mapapp planner analyses: filters, catchments, site suitability, scenario comparison,
 * key figures and exports. Every figure comes from the server's JSON twins
 * (/api/analysis/...); the map is driven in place, never rebuilt.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("planner-config").textContent).analysis;
  var t = cfg.t;
  var map = mapapp.map;
  var api = { measuring: false };
  window.mapappAnalysis = api;
  var COLORS = { jobs: "#2166ac", training: "#00a6ca", fibre: "#43a2ca", station: "#333333",
                 underserved: "#f46d43" };
  var SCORE_CLASSES = [[0, "#fff5eb"], [0.2, "#fdd0a2"], [0.4, "#fd8d3c"], [0.6, "#d94801"],
                       [0.8, "#7f2704"]];

  var el = mapapp.el;

  function fmt(value, digits) {
    if (value === null || value === undefined) return t.unknown;
    return Number(value).toLocaleString(document.documentElement.lang, {
      maximumFractionDigits: digits === undefined ? 0 : digits });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
          return data;
        });
      });
  }

  function fail(box, err) {
    box.textContent = "";
    box.appendChild(el("p", "status status-error", t.error + " " + err.message));
  }

  function table(headers, rows) {
    var tab = el("table");
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", null, h)).scope = "col"; });
    head.appendChild(tr);
    if (headers.some(Boolean)) tab.appendChild(head);  /* no empty column headers */
    var body = el("tbody");
    rows.forEach(function (row) {
      var r = el("tr");
      row.forEach(function (cell, i) {
        var c = el(i === 0 ? "th" : "td");
        if (i === 0) c.scope = "row";
        if (cell instanceof Node) c.appendChild(cell); else c.textContent = cell;
        r.appendChild(c);
      });
      body.appendChild(r);
    });
    tab.appendChild(body);
    return tab;
  }

  /* --- filters ------------------------------------------------------------------ */

  var filters = {};  /* "layer.field" -> [values] */
  var params = new URLSearchParams(window.location.search);
  Object.keys(cfg.filters).forEach(function (key) {
    if (params.get(key)) filters[key] = params.get(key).split(",");
  });

  function filterQuery() {
    var q = new URLSearchParams();
    Object.keys(filters).sort().forEach(function (k) {
      if (filters[k].length) q.set(k, filters[k].join(","));
    });
    return q;
  }

  function withFilters(url, extra) {
    var q = filterQuery();
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] !== null && extra[k] !== undefined && extra[k] !== "") q.set(k, extra[k]);
    });
    var s = q.toString();
    return s ? url + (url.indexOf("?") === -1 ? "?" : "&") + s : url;
  }

  function applyToMap() {
    ["companies", "coworking", "schools", "fibre"].forEach(function (layer) {
      var keys = Object.keys(filters).filter(function (k) {
        return k.split(".")[0] === layer && filters[k].length;
      });
      var lcfg = mapapp.layerEntry(map, layer).cfg;
      var classFilter = lcfg.classes ? lcfg.classField + "_class" : null;
      mapapp.setFilter(map, layer, keys.length ? function (p) {
        return keys.every(function (k) {
          var field = k.split(".")[1];
          var value = field === classFilter ? String(mapapp.classIndex(lcfg, p[lcfg.classField]))
            : String(p[field]);
          return filters[k].indexOf(value) !== -1;
        });
      } : null);
    });
  }

  function syncUrl() {
    var q = new URLSearchParams(window.location.search);
    Object.keys(cfg.filters).forEach(function (k) { q.delete(k); });
    filterQuery().forEach(function (v, k) { q.set(k, v); });
    try { window.history.replaceState(null, "", window.location.pathname + "?" + q.toString()); }
    catch (e) { /* ignore */ }
  }

  function buildFilters() {
    var form = document.getElementById("filters-form");
    Object.keys(cfg.filters).forEach(function (key) {
      var spec = cfg.filters[key];
      var fs = el("fieldset");
      fs.appendChild(el("legend", null, spec[0]));
      var box = el("div", "options");
      spec[1].forEach(function (choice) {
        var label = el("label");
        var input = el("input");
        input.type = "checkbox";
        input.name = key;
        input.value = choice[0];
        input.checked = (filters[key] || []).indexOf(choice[0]) !== -1;
        label.appendChild(input);
        label.appendChild(el("span", null, choice[1]));
        box.appendChild(label);
      });
      fs.appendChild(box);
      form.appendChild(fs);
    });
    form.addEventListener("change", function (e) {
      var key = e.target.name;
      filters[key] = Array.prototype.filter.call(form.elements[key] instanceof RadioNodeList
        ? form.elements[key] : [form.elements[key]], function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      syncUrl();
      applyToMap();
      refresh();
    });
  }

  /* --- catchment ---------------------------------------------------------------- */

  var radius = document.getElementById("radius");
  var radiusOut = document.getElementById("radius-out");
  var catchBox = document.getElementById("catchment-result");
  var catchLayer = null, lastCatch = null;

  function showCatchment(data) {
    if (catchLayer) map.removeLayer(catchLayer);
    catchLayer = L.geoJSON(data.area, { interactive: false,
      style: { color: "#d7191c", weight: 2, fillOpacity: 0.08, dashArray: "5 4" } }).addTo(map);
    catchBox.textContent = "";
    if (data.target) catchBox.appendChild(el("h3", null, data.target.name));
    var rows = [
      [t.companies, fmt(data.companies.count) + (data.companies.without_headcount
        ? " (" + data.companies.without_headcount + " " + t.withoutHeadcount + ")" : "")],
      [t.jobs, fmt(data.companies.jobs_estimate)],
      [t.schools, fmt(data.schools.count)],
      [t.students, fmt(data.schools.students) + (data.schools.without_students
        ? " (" + data.schools.without_students + " " + t.withoutStudents + ")" : "")],
      [t.coworking, fmt(data.coworking.count)],
      [t.desks, fmt(data.coworking.desks)],
      [t.fibre, data.fibre_coverage === null ? t.unknown : fmt(data.fibre_coverage * 100, 1) + " %"],
      [t.station, data.nearest_station_m === null ? t.unknown : fmt(data.nearest_station_m) + " m"]
    ];
    catchBox.appendChild(table([data.radius_m + " m", ""], rows));
    var sectors = Object.keys(data.companies.by_sector);
    if (sectors.length) {
      catchBox.appendChild(table([cfg.filters["companies.sector"][0], t.companies, t.jobs],
        sectors.map(function (s) {
          var v = data.companies.by_sector[s];
          return [cfg.sectors[s] || s, fmt(v.count), fmt(v.jobs_estimate)];
        })));
    }
    catchBox.setAttribute("data-ready", "true");
  }

  function runCatchment(extra) {
    lastCatch = extra;
    catchBox.removeAttribute("data-ready");
    getJSON(withFilters(cfg.urls.catchment, Object.assign({ radius: radius.value }, extra)))
      .then(showCatchment).catch(function (err) { fail(catchBox, err); });
  }

  radius.addEventListener("input", function () { radiusOut.textContent = radius.value; });
  radius.addEventListener("change", function () { if (lastCatch) runCatchment(lastCatch); });

  var measureButton = document.getElementById("measure");
  measureButton.addEventListener("click", function () {
    api.measuring = !api.measuring;
    measureButton.setAttribute("aria-pressed", String(api.measuring));
    map.getContainer().style.cursor = api.measuring ? "crosshair" : "";
  });
  map.on("click", function (e) {
    if (!api.measuring) return;
    runCatchment({ lat: e.latlng.lat.toFixed(5), lon: e.latlng.lng.toFixed(5) });
  });

  var targetSelect = document.getElementById("catchment-target");
  targetSelect.addEventListener("change", function () {
    if (!targetSelect.value) return;
    var parts = targetSelect.value.split(":");
    runCatchment({ layer: parts[0], id: parts.slice(1).join(":") });
  });

  /* --- suitability --------------------------------------------------------------- */

  var weightsForm = document.getElementById("weights-form");
  var suitBox = document.getElementById("suitability-result");
  var cellSelect = document.getElementById("cell");
  var gridLayer = null, gridShown = false, suitTimer = null;
  cellSelect.value = String(cfg.defaults.cell);

  cfg.criteria.forEach(function (c) {
    var wrap = el("div", "field");
    var label = el("label", null, c[1]);
    label.htmlFor = "w-" + c[0];
    var out = el("output", null, "1");
    out.id = "w-" + c[0] + "-out";
    var input = el("input");
    input.type = "range";
    input.min = "0"; input.max = "5"; input.step = "0.5"; input.value = "1";
    input.id = "w-" + c[0];
    input.name = "w." + c[0];
    input.addEventListener("input", function () { out.textContent = input.value; });
    wrap.appendChild(label);
    wrap.appendChild(out);
    wrap.appendChild(input);
    weightsForm.appendChild(wrap);
  });

  function weightParams() {
    var extra = { cell: cellSelect.value };
    cfg.criteria.forEach(function (c) { extra["w." + c[0]] = document.getElementById("w-" + c[0]).value; });
    return extra;
  }

  function scoreColor(score) {
    var color = SCORE_CLASSES[0][1];
    SCORE_CLASSES.forEach(function (c) { if (score >= c[0]) color = c[1]; });
    return color;
  }

  function showSuitability(data) {
    if (gridLayer) map.removeLayer(gridLayer);
    gridLayer = L.geoJSON(data.cells, {
      pane: "mapapp-zones",
      style: function (f) {
        return { color: "#555", weight: 0.3, fillColor: scoreColor(f.properties.score), fillOpacity: 0.6 };
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(el("span", null, t.rank + " " + f.properties.rank + " — " +
          t.score + " " + fmt(f.properties.score, 3)));
      }
    }).addTo(map);
    gridShown = true;
    suitBox.textContent = "";
    var legend = el("p", "legend-row");
    legend.appendChild(el("strong", null, t.scoreLegend + " : "));
    SCORE_CLASSES.forEach(function (c, i) {
      var next = SCORE_CLASSES[i + 1] ? SCORE_CLASSES[i + 1][0] : 1;
      var item = el("span", null, c[0].toFixed(1) + "–" + next.toFixed(1));
      item.style.setProperty("--c", c[1]);
      legend.appendChild(item);
    });
    suitBox.appendChild(legend);
    var rows = data.top.map(function (cell) {
      var bar = el("span", "shares");
      bar.setAttribute("role", "img");
      var words = [];
      cfg.criteria.forEach(function (c) {
        var part = el("span");
        part.style.width = (cell.shares[c[0]] * 100).toFixed(1) + "%";
        part.style.background = COLORS[c[0]];
        part.title = c[1] + " : " + Math.round(cell.shares[c[0]] * 100) + " %";
        bar.appendChild(part);
        words.push(c[1] + " " + Math.round(cell.shares[c[0]] * 100) + " %");
      });
      bar.setAttribute("aria-label", words.join(", "));
      var go = el("button", "small", t.showOnMap);
      go.type = "button";
      go.addEventListener("click", function () { map.setView([cell.lat, cell.lon], 16); });
      return [String(cell.rank), fmt(cell.score, 3), bar, go];
    });
    var tab = table([t.rank, t.score, "", ""], rows);
    tab.id = "suitability-top";
    suitBox.appendChild(tab);
    var key = el("p", "legend-row");
    cfg.criteria.forEach(function (c) {
      var item = el("span", null, c[1]);
      item.style.setProperty("--c", COLORS[c[0]]);
      key.appendChild(item);
    });
    suitBox.appendChild(key);
    suitBox.setAttribute("data-ready", "true");
  }

  function runSuitability() {
    suitBox.removeAttribute("data-ready");
    suitBox.textContent = t.computing;
    getJSON(withFilters(cfg.urls.suitability, weightParams()))
      .then(showSuitability).catch(function (err) { fail(suitBox, err); });
  }

  document.getElementById("compute-suitability").addEventListener("click", runSuitability);
  weightsForm.addEventListener("change", function () {
    if (!gridShown) return;
    clearTimeout(suitTimer);
    suitTimer = setTimeout(runSuitability, 150);
  });
  cellSelect.addEventListener("change", function () { if (gridShown) runSuitability(); });

  /* --- scenarios ---------------------------------------------------------------- */

  var scenBox = document.getElementById("scenarios-result");
  var scenPanel = document.getElementById("panel-scenarios");

  function runScenarios() {
    var extra = Object.assign({ radius: radius.value }, weightParams());
    document.getElementById("scenarios-csv").href = withFilters(cfg.urls.scenariosCsv, extra);
    getJSON(withFilters(cfg.urls.scenarios, extra)).then(function (data) {
      var columns = [["name", t.name], ["status", t.status], ["companies", t.companies],
                     ["jobs_estimate", t.jobs], ["students", t.students],
                     ["coworking_desks", t.desks], ["fibre_coverage", t.fibre],
                     ["nearest_station_m", t.station], ["suitability", t.suitability]];
      var rows = data.rows.slice();
      function render(sortKey, desc) {
        scenBox.textContent = "";
        var tab = el("table");
        var head = el("tr");
        columns.forEach(function (col) {
          var th = el("th");
          th.scope = "col";
          if (col[0] === sortKey) th.setAttribute("aria-sort", desc ? "descending" : "ascending");
          var b = el("button", null, col[1]);
          b.type = "button";
          b.addEventListener("click", function () {
            var d = col[0] === sortKey ? !desc : col[0] !== "name" && col[0] !== "status";
            rows.sort(function (a, c) {
              var x = a[col[0]], y = c[col[0]];
              if (x === y) return 0;
              if (x === null) return 1;
              if (y === null) return -1;
              return (x < y ? -1 : 1) * (d ? -1 : 1);
            });
            render(col[0], d);
          });
          th.appendChild(b);
          head.appendChild(th);
        });
        var thead = el("thead");
        thead.appendChild(head);
        tab.appendChild(thead);
        var body = el("tbody");
        rows.forEach(function (r) {
          var tr = el("tr");
          columns.forEach(function (col, i) {
            var v = r[col[0]];
            var text = col[0] === "fibre_coverage" ? (v === null ? t.unknown : fmt(v * 100, 1) + " %")
              : col[0] === "suitability" ? (v === null ? t.unknown : fmt(v, 3))
              : col[0] === "nearest_station_m" ? fmt(v) + " m"
              : col[0] === "status" ? (cfg.statuses[r.layer] || {})[v] || v
              : typeof v === "number" ? fmt(v) : v;
            var cell = el(i === 0 ? "th" : "td", null, text);
            if (i === 0) cell.scope = "row";
            tr.appendChild(cell);
          });
          body.appendChild(tr);
        });
        tab.appendChild(body);
        scenBox.appendChild(tab);
      }
      render(null, false);
    }).catch(function (err) { fail(scenBox, err); });
  }
  scenPanel.addEventListener("toggle", function () { if (scenPanel.open) runScenarios(); });

  /* --- key figures ------------------------------------------------------------------ */

  var figBox = document.getElementById("figures-result");
  var figPanel = document.getElementById("panel-figures");
  var perimeterSelect = document.getElementById("figures-perimeter");
  var chart = document.getElementById("figures-chart");

  function runFigures() {
    var extra = { perimeter: perimeterSelect.value };
    document.getElementById("figures-csv").href = withFilters(cfg.urls.figuresCsv, extra);
    chart.src = withFilters(cfg.urls.figuresSvg, extra);
    chart.alt = t.jobs;
    chart.hidden = false;
    getJSON(withFilters(cfg.urls.figures, extra)).then(function (data) {
      var f = data.perimeter || data.area;
      figBox.textContent = "";
      figBox.appendChild(el("h3", null, data.perimeter ? data.perimeter.name : t.whole));
      figBox.appendChild(table(["", ""], [
        [t.companies, fmt(f.establishments)], [t.jobs, fmt(f.jobs_estimate)],
        [t.schools, fmt(f.training_places)], [t.students, fmt(f.students)],
        [t.coworking + " (" + t.openPlanned + ")", fmt(f.coworking_open) + " / " + fmt(f.coworking_planned)],
        [t.desks + " (" + t.openPlanned + ")", fmt(f.desks_open) + " / " + fmt(f.desks_planned)],
        [t.ftth, f.ftth_share === null ? t.unknown : fmt(f.ftth_share * 100, 1) + " %"]
      ]));
      if (f.fibre_illustrative) figBox.appendChild(el("p", "hint", t.illustrative));
    }).catch(function (err) { fail(figBox, err); });
  }
  figPanel.addEventListener("toggle", function () { if (figPanel.open) runFigures(); });
  perimeterSelect.addEventListener("change", runFigures);

  /* --- exports -------------------------------------------------------------------------- */

  function refreshExports() {
    var list = document.getElementById("exports-list");
    list.textContent = "";
    cfg.layers.forEach(function (layer) {
      var li = el("li");
      li.appendChild(el("span", null, layer[1] + " : "));
      ["geojson", "csv", "gpkg"].forEach(function (f, i) {
        var a = el("a", null, { geojson: "GeoJSON", csv: "CSV", gpkg: "GeoPackage" }[f]);
        a.href = withFilters(cfg.urls.export.replace("__layer__", layer[0]).replace("__fmt__", f));
        if (i) li.appendChild(document.createTextNode(" · "));
        li.appendChild(a);
      });
      list.appendChild(li);
    });
  }

  function refresh() {
    refreshExports();
    if (scenPanel.open) runScenarios();
    if (figPanel.open) runFigures();
    if (gridShown) runSuitability();
    if (lastCatch) runCatchment(lastCatch);
  }

  /* --- start ----------------------------------------------------------------------- */

  mapapp.whenReady(map, function () {
    ["coworking", "perimeters"].forEach(function (name) {
      var entry = mapapp.layerEntry(map, name);
      if (!entry) return;
      entry.features.forEach(function (f) {
        var p = f.layer.feature.properties;
        if (name === "coworking" && ["planned", "proposed", "under_construction"].indexOf(p.status) === -1) return;
        var o = el("option", null, f.name);
        o.value = name + ":" + f.id;
        targetSelect.appendChild(o);
        if (name === "perimeters") {
          var o2 = el("option", null, f.name);
          o2.value = f.id;
          perimeterSelect.appendChild(o2);
        }
      });
    });
    buildFilters();
    applyToMap();
    refreshExports();
  });
})();
