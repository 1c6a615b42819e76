/* mapapp planner analyses: filters, catchments, site suitability, scenario comparison,
 * key figures, the ecosystem over time and exports. Every figure comes from the
 * server's JSON twins (/api/analysis/...); the map is driven in place, never rebuilt.
 * Results sit in the panel under the map (resizable, tabs); a row selects and zooms
 * to its site, perimeter or cell, and a feature selected on the map selects its row.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("planner-config").textContent).analysis;
  var t = cfg.t;
  var map = mapapp.map;
  var el = mapapp.el;
  var api = { measuring: false };
  window.mapappAnalysis = api;
  var COLORS = { jobs: "#2166ac", training: "#00a6ca", fibre: "#43a2ca", station: "#333333",
                 underserved: "#f46d43" };
  var SCORE_CLASSES = [[0, "#fff5eb"], [0.2, "#fdd0a2"], [0.4, "#fd8d3c"], [0.6, "#d94801"],
                       [0.8, "#7f2704"]];
  var HIGHLIGHT = "#d7191c";
  var SITE_STATUSES = ["planned", "proposed", "under_construction"];
  var THIS_YEAR = new Date().getFullYear();

  function fmt(value, digits) {
    if (value === null || value === undefined) return t.unknown;
    return Number(value).toLocaleString(document.documentElement.lang, {
      maximumFractionDigits: digits === undefined ? 0 : digits });
  }

  /* A sum the data may lack: "inconnu (N sans valeur)" when no value is known,
     "12 (3 sans valeur)" when some are; an unknown is never shown as 0. */
  function known(value, unknown, digits) {
    var n = unknown ? say(t.withoutValue, { n: fmt(unknown) }) : "";
    if (value === null || value === undefined) return unknown ? say(t.unknownOf, { n: fmt(unknown) }) : t.unknown;
    return fmt(value, digits) + (n ? " (" + n + ")" : "");
  }

  /* One distance wording everywhere (the public card's and the dossier's):
     "1,7 km à vol d'oiseau · environ 29 min à pied". */
  function distanceText(metres) {
    var w = cfg.walking, minutes = Math.max(1, Math.round(metres * w.detour_factor / (w.speed_kmh * 1000 / 60)));
    var d = metres < 1000 ? Math.round(metres / 10) * 10 + " m" : fmt(metres / 1000, 1) + " km";
    var walk = minutes > 120 ? t.walkLong : minutes < 60 ? say(t.walkMinutes, { n: minutes })
      : say(t.walkHours, { h: Math.floor(minutes / 60), m: ("0" + minutes % 60).slice(-2) });
    return say(t.crowFlies, { distance: d }) + " · " + walk;
  }

  function pct(value) { return value === null || value === undefined ? t.unknown : fmt(value * 100, 1) + " %"; }

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; })
      .replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
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

  /* Only the answer to the latest request of a kind is shown: a late answer to an
     earlier one (weights changed twice, a slow server) never overwrites it. */
  var asked = {};
  function latest(kind, url) {
    var n = asked[kind] = (asked[kind] || 0) + 1;
    function current(settle) {
      return function (value) {
        if (asked[kind] !== n) return new Promise(function () {});  /* superseded */
        return settle(value);
      };
    }
    return getJSON(url).then(current(function (data) { return data; }),
                             current(function (err) { throw err; }));
  }

  function fail(box, err) {
    box.textContent = "";
    box.appendChild(el("p", "status status-error", t.error + " " + err.message));
  }

  /* A table: headers, then rows of cells (text or nodes); the first cell heads its row. */
  function table(headers, rows, caption) {
    var tab = el("table");
    if (caption) tab.appendChild(el("caption", "visually-hidden", caption));
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

  /* --- the results panel: tabs, resizing, hiding ---------------------------------- */

  var results = document.getElementById("results");
  var resultsBody = document.getElementById("results-body");
  var toggle = document.getElementById("results-toggle");
  var splitter = document.getElementById("results-splitter");
  var tabs = Array.prototype.slice.call(results.querySelectorAll("[role=tab]"));
  var onShow = {};

  function showTab(name, focus) {
    tabs.forEach(function (tab) {
      var on = tab.id === "tab-" + name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
      if (on && focus) tab.focus();
    });
    openResults(true);
    if (onShow[name]) onShow[name]();
  }
  api.showTab = showTab;

  function activeTab() {
    var on = tabs.filter(function (tab) { return tab.getAttribute("aria-selected") === "true"; })[0];
    return on ? on.id.replace("tab-", "") : null;
  }

  tabs.forEach(function (tab, i) {
    tab.addEventListener("click", function () { showTab(tab.id.replace("tab-", "")); });
    tab.addEventListener("keydown", function (e) {
      var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      showTab(tabs[(next + tabs.length) % tabs.length].id.replace("tab-", ""), true);
    });
  });

  /* --- the planner on a phone: a tools drawer and a results sheet -------------------- */

  var phone = window.matchMedia("(max-width: 760px)");
  var workspace = document.querySelector(".workspace");
  var toolsToggle = document.getElementById("tools-toggle");
  var tools = document.getElementById("planner-tools");

  function openTools(open, focus) {
    workspace.classList.toggle("tools-open", open);
    toolsToggle.setAttribute("aria-expanded", String(open));
    if (open && focus !== false) tools.focus();
    else if (!open && focus !== false && phone.matches) toolsToggle.focus();
    if (!open) map.invalidateSize();
  }
  api.openTools = openTools;
  toolsToggle.addEventListener("click", function () { openTools(!workspace.classList.contains("tools-open")); });
  document.getElementById("tools-close").addEventListener("click", function () { openTools(false); });
  /* A tool that needs the map (measure, add, draw) gives the screen back to it. */
  tools.addEventListener("click", function (e) {
    if (phone.matches && e.target.closest("[data-needs-map]")) openTools(false, false);
  });
  /* A feature chosen on the map opens its form in the drawer. */
  var featureForm = document.getElementById("feature-form");
  new MutationObserver(function () {
    if (phone.matches && !featureForm.hidden) openTools(true, false);
  }).observe(featureForm, { attributes: true, attributeFilter: ["hidden"] });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !phone.matches) return;
    if (workspace.classList.contains("tools-open")) openTools(false);
    else if (!resultsBody.hidden) { openResults(false); toggle.focus(); }
  });

  function openResults(open) {
    if (open && phone.matches) openTools(false, false);  /* the sheet takes the screen */
    resultsBody.hidden = !open;
    results.classList.toggle("is-collapsed", !open);
    splitter.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? t.hideResults : t.showResults;
    map.invalidateSize();
  }
  toggle.addEventListener("click", function () { openResults(resultsBody.hidden); });

  function setResultsHeight(percent) {
    percent = Math.max(10, Math.min(85, Math.round(percent)));
    results.style.setProperty("--results-h", percent + "%");
    splitter.setAttribute("aria-valuenow", String(percent));
    map.invalidateSize();
  }

  splitter.addEventListener("keydown", function (e) {
    var now = Number(splitter.getAttribute("aria-valuenow"));
    var step = e.shiftKey ? 10 : 3;
    var to = { ArrowUp: now + step, ArrowDown: now - step, Home: 85, End: 10 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    setResultsHeight(to);
  });
  splitter.addEventListener("pointerdown", function (e) {
    var region = results.parentNode.getBoundingClientRect();
    splitter.setPointerCapture(e.pointerId);
    function move(ev) { setResultsHeight((region.bottom - ev.clientY) / region.height * 100); }
    function up() {
      splitter.removeEventListener("pointermove", move);
      splitter.removeEventListener("pointerup", up);
    }
    splitter.addEventListener("pointermove", move);
    splitter.addEventListener("pointerup", up);
  });

  /* --- highlighting on the map and selected rows ------------------------------------- */

  var highlight = null;

  function highlightLayer(layer) {
    if (highlight) map.removeLayer(highlight);
    highlight = null;
    if (!layer) return;
    highlight = layer.getLatLng && !layer.getLayers
      ? L.circleMarker(layer.getLatLng(), { radius: 14, color: HIGHLIGHT, weight: 3, fill: false,
                                            interactive: false })
      : L.geoJSON(layer.toGeoJSON(), { interactive: false,
                                       style: { color: HIGHLIGHT, weight: 4, fill: false } });
    highlight.addTo(map);
  }

  function zoomToLayer(layer) {
    if (layer.getBounds) map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [30, 30] });
    else map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16));
  }

  function markRow(tbody, row) {
    Array.prototype.forEach.call(tbody.querySelectorAll("tr.is-selected"), function (r) {
      r.classList.remove("is-selected");
      r.removeAttribute("aria-current");
    });
    if (!row) return;
    row.classList.add("is-selected");
    row.setAttribute("aria-current", "true");
    if (!resultsBody.hidden && row.offsetParent) row.scrollIntoView({ block: "nearest" });
  }

  /* A button naming a row: activating it selects the row and finds it on the map. */
  function rowButton(text, label, onSelect) {
    var b = el("button", "row-select", text);
    b.type = "button";
    b.setAttribute("aria-label", label);
    b.addEventListener("click", function (e) {
      if (phone.matches) openResults(false);  /* on a phone the map is under the sheet */
      onSelect(e);
    });
    return b;
  }

  /* --- filters ------------------------------------------------------------------ */

  var filters = {};  /* "layer.field" -> [values] */
  var params = new URLSearchParams(window.location.search);
  Object.keys(cfg.filters).forEach(function (key) {
    if (params.get(key)) filters[key] = params.get(key).split(",");
  });
  var filtersForm = document.getElementById("filters-form");

  var jobsAll = document.getElementById("jobs-all");
  jobsAll.checked = params.get("jobs") === "all";

  function filterQuery() {
    var q = new URLSearchParams();
    Object.keys(filters).sort().forEach(function (k) {
      if (filters[k].length) q.set(k, filters[k].join(","));
    });
    if (jobsAll.checked) q.set("jobs", "all");  /* press head counts counted too */
    return q;
  }

  /* The estimated jobs, and what the register-only basis leaves out. */
  function jobsText(c) {
    var left = c.jobs_left_out || 0;
    return known(c.jobs_estimate, c.jobs_unknown) + (left > 0 && c.jobs_basis !== "all"
      ? " (" + say(t.jobsLeftOut, { n: fmt(left) }) + ")" : "");
  }

  /* Rows for the companies an analysis leaves out (located at commune level only). */
  function communeRows(data) {
    var n = ((data.located_at_commune_level_only || {}).companies) || 0;
    return n ? [[t.communeLevelOnly, fmt(n)]] : [];
  }

  function withFilters(url, extra) {
    var q = filterQuery();
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] !== null && extra[k] !== undefined && extra[k] !== "") q.set(k, extra[k]);
    });
    var s = q.toString();
    return s ? url + (url.indexOf("?") === -1 ? "?" : "&") + s : url;
  }

  /* What the results count: the active filters named, or none. */
  function filtersNote() {
    var parts = [];
    Object.keys(cfg.filters).forEach(function (key) {
      var chosen = filters[key] || [];
      if (!chosen.length) return;
      var labels = {};
      cfg.filters[key][1].forEach(function (c) { labels[c[0]] = c[1]; });
      var colon = document.documentElement.lang === "fr" ? " : " : ": ";
      parts.push(cfg.filters[key][0] + colon + chosen.map(function (v) { return labels[v] || v; }).join(", "));
    });
    if (jobsAll.checked) parts.push(t.jobsBasisAll);
    var p = el("p", "hint filters-note", parts.length ? say(t.activeFilters, { list: parts.join(" ; ") }) : t.noFilter);
    if (parts.length) p.classList.add("has-filters");
    return p;
  }

  function activeCount() {
    return Object.keys(filters).reduce(function (n, k) { return n + filters[k].length; }, 0);
  }

  function showFilterState() {
    var n = activeCount();
    var badge = document.getElementById("filters-count");
    badge.hidden = n === 0;
    badge.textContent = String(n);
    badge.setAttribute("aria-label", say(n === 1 ? t.oneFilter : t.filtersActive, { n: n }));
    document.getElementById("reset-filters").disabled = n === 0;
    document.getElementById("active-filters").hidden = n === 0;
    document.getElementById("active-filters-text").textContent =
      say(n === 1 ? t.oneFilter : t.filtersActive, { n: n });
  }

  function yearOf(value) {
    var m = /^\s*(\d{4})(?:[-/]\d{1,2}(?:[-/]\d{1,2})?)?\s*$/.exec(value || "") ||
      /^\s*\d{1,2}\/\d{1,2}\/(\d{4})\s*$/.exec(value || "");
    if (!m) return null;
    var y = Number(m[1]);
    return y < 1900 || y > THIS_YEAR ? null : y;
  }

  function applyToMap() {
    ["companies", "coworking", "schools", "fibre"].forEach(function (layer) {
      var keys = Object.keys(filters).filter(function (k) {
        return k.split(".")[0] === layer && filters[k].length;
      });
      var entry = mapapp.layerEntry(map, layer);
      if (!entry) return;
      var lcfg = entry.cfg;
      var classFilter = lcfg.classes ? lcfg.classField + "_class" : null;
      var byYear = layer === "companies" && slider.year < THIS_YEAR ? slider.year : null;
      mapapp.setFilter(map, layer, keys.length || byYear ? function (p) {
        if (byYear !== null) {
          var y = yearOf(p.creation_date);
          if (y === null || y > byYear) return false;
        }
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
    q.delete("jobs");
    filterQuery().forEach(function (v, k) { q.set(k, v); });
    try { window.history.replaceState(null, "", window.location.pathname + "?" + q.toString()); }
    catch (e) { /* ignore */ }
  }

  function filtersChanged() {
    syncUrl();
    showFilterState();
    applyToMap();
    refresh();
  }

  function buildFilters() {
    /* the page draws them (no shift as it loads); built here only when it did not */
    if (!filtersForm.querySelector("fieldset")) Object.keys(cfg.filters).forEach(function (key) {
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
      filtersForm.appendChild(fs);
    });
    filtersForm.addEventListener("change", function (e) {
      var key = e.target.name;
      filters[key] = Array.prototype.filter.call(filtersForm.querySelectorAll('input[name="' + key + '"]'),
        function (i) { return i.checked; }).map(function (i) { return i.value; });
      filtersChanged();
    });
  }

  function resetFilters() {
    filters = {};
    Array.prototype.forEach.call(filtersForm.querySelectorAll("input"), function (i) { i.checked = false; });
    filtersChanged();
    mapapp.announce(map, t.filtersReset);
  }
  document.getElementById("reset-filters").addEventListener("click", resetFilters);
  jobsAll.addEventListener("change", filtersChanged);
  document.getElementById("reset-filters-chip").addEventListener("click", resetFilters);

  /* --- catchment ---------------------------------------------------------------- */

  var radius = document.getElementById("radius");
  var radiusOut = document.getElementById("radius-out");
  var catchBox = document.getElementById("catchment-result");
  var clearCatch = document.getElementById("clear-catchment");
  var timelineScope = document.getElementById("timeline-scope");
  var catchLayer = null, lastCatch = null, catchEmpty = catchBox.cloneNode(true);

  function showCatchment(data) {
    if (catchLayer) map.removeLayer(catchLayer);
    catchLayer = L.geoJSON(data.area, { interactive: false,
      style: { color: HIGHLIGHT, weight: 2, fillOpacity: 0.08, dashArray: "5 4" } }).addTo(map);
    catchBox.textContent = "";
    catchBox.appendChild(el("h3", null, (data.target ? data.target.name + " – " : "") +
      say(t.withinDistance, { distance: distanceText(data.radius_m) })));
    var rows = [
      [t.companies, fmt(data.companies.count) + (data.companies.without_headcount
        ? " (" + data.companies.without_headcount + " " + t.withoutHeadcount + ")" : "")],
      [t.jobs, jobsText(data.companies)],
      [t.schools, fmt(data.schools.count)],
      [t.students, known(data.schools.students, data.schools.without_students)],
      [t.coworking, fmt(data.coworking.count)],
      [t.desks, known(data.coworking.desks, data.coworking.without_desks)],
      [t.fibre, pct(data.fibre_coverage)],
      [t.station, data.nearest_station_m === null ? t.unknown : distanceText(data.nearest_station_m)]
    ].concat(communeRows(data));
    var wrap = el("div", "figures-grid");
    wrap.appendChild(table([t.indicator, data.radius_m + " m"], rows));
    var sectors = Object.keys(data.companies.by_sector);
    if (sectors.length) {
      wrap.appendChild(table([cfg.filters["companies.sector"][0], t.companies, t.jobs],
        sectors.map(function (s) {
          var v = data.companies.by_sector[s];
          return [cfg.sectors[s] || s, fmt(v.count), known(v.jobs_estimate, v.jobs_unknown)];
        })));
    }
    catchBox.appendChild(wrap);
    catchBox.appendChild(filtersNote());
    if (data.target) {
      var a = el("a", null, t.dossier);
      a.href = withFilters(cfg.urls.dossier, { layer: data.target.layer, id: data.target.id,
                                               radius: data.radius_m });
      catchBox.appendChild(el("p")).appendChild(a);
    }
    catchBox.setAttribute("data-ready", "true");
    clearCatch.disabled = false;
    timelineScope.querySelector('option[value="catchment"]').disabled = false;
  }

  function runCatchment(extra, quiet) {
    lastCatch = extra;
    catchBox.removeAttribute("data-ready");
    if (!quiet) showTab("catchment");
    latest("catchment", withFilters(cfg.urls.catchment, Object.assign({ radius: radius.value }, extra)))
      .then(showCatchment).catch(function (err) { fail(catchBox, err); });
  }
  api.runCatchment = runCatchment;

  function clearCatchment() {
    asked.catchment = (asked.catchment || 0) + 1;  /* an answer on its way is dropped */
    if (catchLayer) map.removeLayer(catchLayer);
    catchLayer = null;
    lastCatch = null;
    catchBox.replaceWith(catchEmpty);
    catchBox = catchEmpty;
    catchEmpty = catchBox.cloneNode(true);
    clearCatch.disabled = true;
    targetSelect.value = "";
    var option = timelineScope.querySelector('option[value="catchment"]');
    option.disabled = true;
    if (timelineScope.value === "catchment") { timelineScope.value = ""; runTimeline(); }
    mapapp.announce(map, t.catchmentCleared);
  }
  clearCatch.addEventListener("click", clearCatchment);

  radius.addEventListener("input", function () { radiusOut.textContent = radius.value; });
  radius.addEventListener("change", function () { if (lastCatch) runCatchment(lastCatch); });

  var measureButton = document.getElementById("measure");
  function setMeasuring(on) {
    api.measuring = on;
    measureButton.setAttribute("aria-pressed", String(on));
    map.getContainer().style.cursor = on ? "crosshair" : "";
  }
  api.setMeasuring = setMeasuring;
  measureButton.addEventListener("click", function () { setMeasuring(!api.measuring); });
  map.on("click", function (e) {
    if (!api.measuring) return;
    runCatchment({ lat: e.latlng.lat.toFixed(5), lon: e.latlng.lng.toFixed(5) });
  });

  /* Measuring by form: coordinates typed, or the centre of the map. */
  var measureForm = document.getElementById("measure-form");
  var measureError = document.getElementById("measure-error");
  function readCoordinate(input, low, high) {
    var value = Number(String(input.value).trim().replace(",", "."));
    var ok = input.value.trim() !== "" && isFinite(value) && value >= low && value <= high;
    input.setAttribute("aria-invalid", String(!ok));
    return ok ? value : null;
  }
  api.readCoordinate = readCoordinate;
  measureForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var lat = readCoordinate(measureForm.elements.lat, -90, 90);
    var lon = readCoordinate(measureForm.elements.lon, -180, 180);
    if (lat === null || lon === null) { measureError.textContent = t.badCoordinates; return; }
    var area = cfg.area;
    if (lon < area[0] || lon > area[2] || lat < area[1] || lat > area[3]) {
      measureError.textContent = t.outside;
      return;
    }
    measureError.textContent = "";
    map.setView([lat, lon], Math.max(map.getZoom(), 14));
    runCatchment({ lat: lat.toFixed(5), lon: lon.toFixed(5) });
  });
  document.getElementById("measure-centre").addEventListener("click", function () {
    var c = map.getCenter();
    measureForm.elements.lat.value = c.lat.toFixed(5);
    measureForm.elements.lon.value = c.lng.toFixed(5);
    measureForm.requestSubmit();
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
  var suitEmpty = suitBox.cloneNode(true);
  var cellSelect = document.getElementById("cell");
  var gridToggle = document.getElementById("toggle-grid");
  var gridClear = document.getElementById("clear-grid");
  var gridLayer = null, gridShown = false, suitTimer = null, gridCells = {};
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

  var areaOf = {};  /* cell rank -> the rank of its area's best cell */
  function selectCell(rank, zoom) {
    var tbody = suitBox.querySelector("#suitability-top tbody");
    if (!tbody) return;
    rank = areaOf[rank] || rank;
    var row = tbody.querySelector('tr[data-rank="' + rank + '"]');
    markRow(tbody, row);
    var members = row ? row.getAttribute("data-ranks").split(",") : [String(rank)];
    var cells = members.map(function (r) { return gridCells[r]; }).filter(Boolean);
    if (cells.length) {
      var group = L.featureGroup(cells);
      highlightLayer(group);
      if (zoom) map.fitBounds(group.getBounds(), { maxZoom: 16, padding: [60, 60] });
    }
  }

  function showGrid(on) {
    if (!gridLayer) return;
    if (on) gridLayer.addTo(map); else map.removeLayer(gridLayer);
    gridShown = on;
    gridToggle.setAttribute("aria-pressed", String(on));
    gridToggle.textContent = t.showGrid;
  }

  function drawGrid(data) {
    if (gridLayer) map.removeLayer(gridLayer);
    gridCells = {};
    gridLayer = L.geoJSON(data.cells, {
      pane: "mapapp-zones",
      style: function (f) {
        return { color: "#555", weight: 0.3, fillColor: scoreColor(f.properties.score), fillOpacity: 0.6 };
      },
      onEachFeature: function (f, layer) {
        gridCells[f.properties.rank] = layer;
        layer.bindTooltip(el("span", null, t.rank + " " + f.properties.rank + " — " +
          t.score + " " + fmt(f.properties.score, 3)));
        mapapp.untabbable(layer);
        layer.on("click", function () { if (!api.measuring) selectCell(f.properties.rank, false); });
      }
    }).addTo(map);
    gridShown = true;
    gridToggle.disabled = false;
    gridClear.disabled = false;
    showGrid(true);
  }

  function scoreLegend() {
    var legend = el("p", "legend-row");
    legend.appendChild(el("strong", null, t.scoreLegend + " : "));
    SCORE_CLASSES.forEach(function (c, i) {
      var next = SCORE_CLASSES[i + 1] ? SCORE_CLASSES[i + 1][0] : 1;
      var item = el("span", null, fmt(c[0], 1) + "–" + fmt(next, 1));
      item.style.setProperty("--c", c[1]);
      legend.appendChild(item);
    });
    return legend;
  }

  function sharesBar(cell) {
    var bar = el("span", "shares");
    bar.setAttribute("role", "img");
    var words = [];
    cfg.criteria.forEach(function (c) {
      if (cell.criteria && cell.criteria[c[0]] === null) return;  /* left out: no data */
      var part = el("span");
      part.style.width = (cell.shares[c[0]] * 100).toFixed(1) + "%";
      part.style.background = COLORS[c[0]];
      part.title = c[1] + " : " + Math.round(cell.shares[c[0]] * 100) + " %";
      bar.appendChild(part);
      words.push(c[1] + " " + Math.round(cell.shares[c[0]] * 100) + " %");
    });
    bar.setAttribute("aria-label", words.join(", "));
    return bar;
  }

  /* An area's name: its quarter and commune, the nearest landmark when another
     area has the same name, a number when even that repeats. */
  function areaName(cell) {
    var p = cell.place || {};
    var name = p.label || fmt(cell.lat, 5) + ", " + fmt(cell.lon, 5);
    if (p.near) name += " · " + say(t.near, { name: p.near });
    if (p.number) name += " (" + p.number + ")";
    return name;
  }

  function leftOutNote(data) {
    if (!data.left_out || !data.left_out.length) return null;
    var labels = {};
    cfg.criteria.forEach(function (c) { labels[c[0]] = c[1]; });
    var used = cfg.criteria.filter(function (c) { return c[0] in data.weights_used; })
      .map(function (c) { return c[1] + " " + Math.round(data.weights_used[c[0]] * 100) + " %"; });
    var p = el("p", "status left-out", say(t.leftOut, {
      criteria: data.left_out.map(function (c) { return labels[c]; }).join(", "),
      weights: used.join(", ") }));
    p.id = "suitability-left-out";
    return p;
  }

  function showSuitability(data) {
    drawGrid(data);
    suitBox.textContent = "";
    var note = leftOutNote(data);
    if (note) suitBox.appendChild(note);
    suitBox.appendChild(scoreLegend());
    areaOf = {};
    var rows = data.top.map(function (cell) {
      var place = areaName(cell);
      (cell.ranks || [cell.rank]).forEach(function (r) { areaOf[r] = cell.rank; });
      var n = cell.cells || 1;
      var go = rowButton(place, t.showOnMap + " : " + t.area + " " + (cell.area || cell.rank) + ", " + place,
                         function () { selectCell(cell.rank, true); });
      var what = el("span");
      what.appendChild(go);
      what.appendChild(el("span", "hint", " — " + (n === 1 ? t.oneCell : say(t.cellsN, { n: n }))));
      return [String(cell.area || cell.rank), what, fmt(cell.score, 3), sharesBar(cell)];
    });
    var tab = table([t.area, t.place, t.score, t.shares], rows);
    tab.id = "suitability-top";
    Array.prototype.forEach.call(tab.querySelectorAll("tbody tr"), function (tr, i) {
      tr.setAttribute("data-rank", String(data.top[i].rank));
      tr.setAttribute("data-ranks", (data.top[i].ranks || [data.top[i].rank]).join(","));
    });
    suitBox.appendChild(tab);
    var key = el("p", "legend-row");
    cfg.criteria.forEach(function (c) {
      var item = el("span", null, c[1]);
      item.style.setProperty("--c", COLORS[c[0]]);
      key.appendChild(item);
    });
    suitBox.appendChild(key);
    suitBox.appendChild(filtersNote());
    suitBox.setAttribute("data-ready", "true");
  }

  function runSuitability(quiet) {
    suitBox.removeAttribute("data-ready");
    suitBox.textContent = t.computing;
    if (quiet !== true) showTab("suitability");
    latest("suitability", withFilters(cfg.urls.suitability, weightParams()))
      .then(showSuitability).catch(function (err) { fail(suitBox, err); });
  }

  function clearGrid() {
    clearTimeout(suitTimer);
    asked.suitability = (asked.suitability || 0) + 1;  /* an answer on its way is dropped */
    if (gridLayer) map.removeLayer(gridLayer);
    gridLayer = null;
    gridShown = false;
    gridCells = {};
    highlightLayer(null);
    suitBox.replaceWith(suitEmpty);
    suitBox = suitEmpty;
    suitEmpty = suitBox.cloneNode(true);
    gridToggle.disabled = true;
    gridClear.disabled = true;
    mapapp.announce(map, t.gridCleared);
  }

  document.getElementById("compute-suitability").addEventListener("click", function () { runSuitability(); });
  gridToggle.addEventListener("click", function () { showGrid(!gridShown); });
  gridClear.addEventListener("click", clearGrid);
  weightsForm.addEventListener("change", function () {
    if (!gridLayer) return;
    clearTimeout(suitTimer);
    suitTimer = setTimeout(function () { runSuitability(true); }, 150);
  });
  cellSelect.addEventListener("change", function () { if (gridLayer) runSuitability(true); });

  /* --- scenarios ---------------------------------------------------------------- */

  var scenBox = document.getElementById("scenarios-result");
  var scenRows = [], scenSort = [null, false], scenSelected = null;
  var SCEN_COLUMNS = [["name", t.name], ["status", t.status], ["companies", t.companies],
                      ["jobs_estimate", t.jobs], ["students", t.students],
                      ["coworking_desks", t.desks], ["fibre_coverage", t.fibre],
                      ["nearest_station_m", t.station], ["suitability", t.suitability]];

  function scenText(r, key) {
    var v = r[key];
    if (key === "fibre_coverage") return pct(v);
    if (key === "suitability") return v === null ? t.unknown : fmt(v, 3);
    if (key === "nearest_station_m") return v === null ? t.unknown : distanceText(v);
    if (key === "status") return (cfg.statuses[r.layer] || {})[v] || v;
    if (key === "jobs_estimate") return known(v, r.jobs_unknown);
    if (key === "students") return known(v, r.students_unknown);
    if (key === "coworking_desks") return known(v, r.desks_unknown);
    return typeof v === "number" ? fmt(v) : v;
  }

  function selectScenario(layer, id, fromMap) {
    scenSelected = { layer: layer, id: String(id) };
    var tbody = scenBox.querySelector("tbody");
    if (tbody) {
      var row = Array.prototype.filter.call(tbody.querySelectorAll("tr"), function (r) {
        return r.getAttribute("data-layer") === layer && r.getAttribute("data-id") === String(id);
      })[0];
      markRow(tbody, row || null);
    }
    var found = mapapp.findFeature(map, layer, id);
    if (!found) return;
    highlightLayer(found.layer);
    if (!fromMap) {
      zoomToLayer(found.layer);
      if (found.layer.openTooltip) found.layer.openTooltip();
    }
  }
  api.selectScenario = selectScenario;

  function sortScenarios(key) {
    var desc = key === scenSort[0] ? !scenSort[1] : key !== "name" && key !== "status";
    scenRows.sort(function (a, c) {
      var x = a[key], y = c[key];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (desc ? -1 : 1);
    });
    scenSort = [key, desc];
    renderScenarios();
    var th = scenBox.querySelector('th[data-key="' + key + '"] button');
    if (th) th.focus();
  }

  function renderScenarios() {
    scenBox.textContent = "";
    var tab = el("table");
    tab.id = "scenarios-table";
    var head = el("tr");
    SCEN_COLUMNS.forEach(function (col) {
      var th = el("th");
      th.scope = "col";
      th.setAttribute("data-key", col[0]);
      if (col[0] === scenSort[0]) th.setAttribute("aria-sort", scenSort[1] ? "descending" : "ascending");
      var b = el("button", "sort", col[1]);
      b.type = "button";
      b.addEventListener("click", function () { sortScenarios(col[0]); });
      th.appendChild(b);
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    tab.appendChild(thead);
    var body = el("tbody");
    scenRows.forEach(function (r) {
      var tr = el("tr");
      tr.setAttribute("data-layer", r.layer);
      tr.setAttribute("data-id", String(r.id));
      SCEN_COLUMNS.forEach(function (col, i) {
        var cell = el(i === 0 ? "th" : "td");
        if (i === 0) {
          cell.scope = "row";
          cell.appendChild(rowButton(r.name, t.showOnMap + " : " + r.name,
                                     function () { selectScenario(r.layer, r.id, false); }));
        } else {
          cell.textContent = scenText(r, col[0]);
        }
        tr.appendChild(cell);
      });
      var dossier = el("a", "small-link", t.dossierShort);
      dossier.href = withFilters(cfg.urls.dossier, { layer: r.layer, id: r.id, radius: radius.value });
      dossier.setAttribute("aria-label", t.dossier + " : " + r.name);
      var last = el("td");
      last.appendChild(dossier);
      tr.appendChild(last);
      body.appendChild(tr);
    });
    head.appendChild(el("th", null, t.dossier)).scope = "col";
    tab.appendChild(body);
    scenBox.appendChild(tab);
    scenBox.appendChild(filtersNote());
    scenBox.setAttribute("data-ready", "true");
    if (scenSelected) selectScenario(scenSelected.layer, scenSelected.id, true);
  }

  function runScenarios() {
    var extra = Object.assign({ radius: radius.value }, weightParams());
    document.getElementById("scenarios-csv").href = withFilters(cfg.urls.scenariosCsv, extra);
    scenBox.removeAttribute("data-ready");
    latest("scenarios", withFilters(cfg.urls.scenarios, extra)).then(function (data) {
      scenRows = data.rows.slice();
      scenSort = [null, false];
      renderScenarios();
    }).catch(function (err) { fail(scenBox, err); });
  }
  onShow.scenarios = runScenarios;

  map.on("mapapp:featureopen", function (e) {
    if (e.layerName === "coworking" || e.layerName === "perimeters") selectScenario(e.layerName, e.id, true);
  });

  /* --- key figures ------------------------------------------------------------------ */

  var figBox = document.getElementById("figures-result");
  var perimeterSelect = document.getElementById("figures-perimeter");
  var chart = document.getElementById("figures-chart");

  function runFigures() {
    var extra = { perimeter: perimeterSelect.value };
    document.getElementById("figures-csv").href = withFilters(cfg.urls.figuresCsv, extra);
    document.getElementById("figures-dossier").href = withFilters(cfg.urls.dossier,
      perimeterSelect.value ? { layer: "perimeters", id: perimeterSelect.value, radius: radius.value } : {});
    chart.src = withFilters(cfg.urls.figuresSvg, extra);
    chart.alt = t.chartAlt;
    chart.hidden = false;
    figBox.removeAttribute("data-ready");
    latest("figures", withFilters(cfg.urls.figures, extra)).then(function (data) {
      var f = data.perimeter || data.area;
      figBox.textContent = "";
      figBox.appendChild(el("h3", null, data.perimeter ? data.perimeter.name : t.whole));
      var pub = data.perimeter ? {} : (data.published || {});
      var rows = [
        [t.companies, fmt(f.establishments), published(pub.establishments)], [t.jobs, jobsText(f), published(pub.jobs_estimate)],
        [t.schools, fmt(f.training_places), ""], [t.students, known(f.students, f.students_unknown), published(pub.students)],
        [t.coworking + " (" + t.openPlanned + ")", fmt(f.coworking_open) + " / " + fmt(f.coworking_planned), ""],
        [t.desks + " (" + t.openPlanned + ")", known(f.desks_open, f.desks_open_unknown) + " / " +
          known(f.desks_planned, f.desks_planned_unknown), ""],
        [t.ftth, pct(f.ftth_share), published(pub.ftth_share, true)]
      ].concat(communeRows(f).map(function (r) { return r.concat([""]); }));
      var withPublished = Object.keys(pub).length > 0;
      figBox.appendChild(table(withPublished ? [t.indicator, t.onMap, t.publishedFigure] : [t.indicator, t.value],
        withPublished ? rows : rows.map(function (r) { return r.slice(0, 2); })));
      if (f.fibre_illustrative) figBox.appendChild(el("p", "hint", t.illustrative));
      figBox.appendChild(filtersNote());
      figBox.setAttribute("data-ready", "true");
    }).catch(function (err) { fail(figBox, err); });
  }
  onShow.figures = runFigures;
  perimeterSelect.addEventListener("change", runFigures);

  /* A figure published for the whole territory, with its source and date. */
  function published(p, share) {
    if (!p) return "";
    var box = el("span", "published");
    var value = share ? pct(p.value) : fmt(p.value);
    box.appendChild(document.createTextNode((p.approximate ? t.about + " " : "") + value + " · " + p.label + " "));
    var a = el("a", null, say(t.publishedSource, { date: p.date }));
    a.href = p.url;
    a.title = p.source;
    a.rel = "noopener";
    box.appendChild(a);
    return box;
  }

  /* --- the ecosystem over time: the tab and the year slider on the map ---------------- */

  var timeBox = document.getElementById("timeline-result");
  var slider = { year: THIS_YEAR, data: null };

  function timelineParams() {
    var v = timelineScope.value;
    if (v === "catchment" && lastCatch) return Object.assign({ radius: radius.value }, lastCatch);
    if (v && v !== "catchment") return { perimeter: v };
    return {};
  }

  function timelineChart(data) {
    var ns = "http://www.w3.org/2000/svg";
    var w = 640, h = 170, left = 36, bottom = 22, n = data.years.length;
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "timeline-chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t.chartTimeline);
    var peak = Math.max.apply(null, data.existing.concat([1]));
    var step = (w - left - 8) / Math.max(n, 1);
    function add(tag, attrs, text) {
      var node = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
      return node;
    }
    data.years.forEach(function (y, i) {
      var x = left + i * step;
      var bh = (data.existing[i] / peak) * (h - bottom - 10);
      add("rect", { x: x + 1, y: h - bottom - bh, width: Math.max(step - 2, 1), height: bh, fill: "#9ecae1" });
      var ch = (data.created[i] / peak) * (h - bottom - 10);
      add("rect", { x: x + step * 0.25, y: h - bottom - ch, width: Math.max(step * 0.5, 1), height: ch, fill: "#2166ac" });
      if (n <= 15 || i % Math.ceil(n / 12) === 0) {
        add("text", { x: x + step / 2, y: h - 6, "text-anchor": "middle", "font-size": 10 }, String(y));
      }
    });
    add("text", { x: 2, y: 12, "font-size": 10 }, fmt(peak));
    add("line", { x1: left, x2: w, y1: h - bottom, y2: h - bottom, stroke: "#555" });
    return svg;
  }

  function showTimeline(data) {
    timeBox.textContent = "";
    var scope = data.scope.kind === "perimeter" ? data.scope.name
      : data.scope.kind === "catchment" ? say(t.withinDistance, { distance: distanceText(data.scope.radius_m) }) : t.whole;
    timeBox.appendChild(el("h3", null, scope));
    var note = el("p", "hint", say(t.unknownDates, { n: data.unknown, total: data.total }));
    note.id = "timeline-unknown";
    timeBox.appendChild(note);
    if (!data.closures_known) timeBox.appendChild(el("p", "hint", t.noClosures));
    var legend = el("p", "legend-row");
    [[t.existingEnd, "#9ecae1"], [t.created, "#2166ac"]].forEach(function (k) {
      var item = el("span", null, k[0]);
      item.style.setProperty("--c", k[1]);
      legend.appendChild(item);
    });
    timeBox.appendChild(legend);
    timeBox.appendChild(timelineChart(data));
    var wrap = el("div", "timeline-table-wrap");
    var rows = data.years.map(function (y, i) {
      return [String(y), fmt(data.created[i]), (data.net[i] > 0 ? "+" : "") + fmt(data.net[i]), fmt(data.existing[i])];
    }).reverse();
    var tab = table([t.year, t.created, t.net, t.existingEnd], rows);
    tab.className = "timeline-table";
    wrap.appendChild(tab);
    timeBox.appendChild(wrap);
    timeBox.appendChild(filtersNote());
    timeBox.setAttribute("data-ready", "true");
  }

  function runTimeline() {
    timeBox.removeAttribute("data-ready");
    latest("timeline", withFilters(cfg.urls.timeline, timelineParams()))
      .then(showTimeline).catch(function (err) { fail(timeBox, err); });
  }
  onShow.timeline = runTimeline;
  timelineScope.addEventListener("change", runTimeline);

  /* The year slider: establishments existing at the end of the year chosen. */
  function sliderControl() {
    var ctl = L.control({ position: "topright" });
    ctl.onAdd = function () {
      var box = el("div", "timeline-control leaflet-control");
      var label = el("label", null, t.yearSlider + " ");
      label.htmlFor = "year-slider";
      var out = el("output", null, String(THIS_YEAR));
      out.id = "year-out";
      label.appendChild(out);
      var input = el("input");
      input.type = "range";
      input.id = "year-slider";
      input.min = String(THIS_YEAR - 20);
      input.max = String(THIS_YEAR);
      input.step = "1";
      input.value = String(THIS_YEAR);
      var count = el("p", null, "");
      count.id = "year-count";
      count.setAttribute("aria-live", "polite");
      box.appendChild(label);
      box.appendChild(input);
      box.appendChild(count);
      input.addEventListener("input", function () {
        slider.year = Number(input.value);
        out.textContent = input.value;
        showYear();
        applyToMap();
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      slider.input = input;
      slider.count = count;
      slider.box = box;
      box.hidden = true;  /* shown once some creation date is known */
      return box;
    };
    ctl.addTo(map);
  }

  function showYear() {
    var d = slider.data;
    if (!d || !slider.count) return;
    var i = d.years.indexOf(slider.year);
    var existing = i === -1 ? (slider.year < d.years[0] ? d.existing_before : d.existing[d.existing.length - 1])
      : d.existing[i];
    slider.count.textContent = say(slider.year < THIS_YEAR ? t.existingHidden : t.existingAll,
                                   { n: fmt(existing), unknown: fmt(d.unknown), year: slider.year });
  }

  function loadSlider() {
    getJSON(withFilters(cfg.urls.timeline, { first: THIS_YEAR - 60 })).then(function (data) {
      slider.data = data;
      var known = data.years.filter(function (y, i) { return data.created[i] > 0; });
      if (slider.input) slider.input.min = String(known.length ? known[0] : THIS_YEAR - 20);
      /* no creation date known (the shipped data): nothing to slide through */
      if (slider.box) slider.box.hidden = !known.length;
      showYear();
    }).catch(function () { /* the slider then shows no count */ });
  }

  /* --- selects of planned sites and perimeters, kept up to date after edits ---------- */

  function fillSelects() {
    var keepTarget = targetSelect.value, keepPerimeter = perimeterSelect.value;
    var keepScope = timelineScope.value;
    [targetSelect, perimeterSelect, timelineScope].forEach(function (select) {
      Array.prototype.slice.call(select.options).forEach(function (o) {
        if (o.value && o.value !== "catchment") o.remove();
      });
    });
    ["coworking", "perimeters"].forEach(function (name) {
      var entry = mapapp.layerEntry(map, name);
      if (!entry) return;
      entry.features.slice().sort(function (a, b) { return String(a.name).localeCompare(b.name); })
        .forEach(function (f) {
          var p = f.layer.feature.properties;
          if (name === "coworking" && SITE_STATUSES.indexOf(p.status) === -1) return;
          var o = el("option", null, f.name);
          o.value = name + ":" + f.id;
          targetSelect.appendChild(o);
          if (name === "perimeters") {
            var o2 = el("option", null, f.name);
            o2.value = f.id;
            perimeterSelect.appendChild(o2);
            timelineScope.insertBefore(o2.cloneNode(true), timelineScope.querySelector('option[value="catchment"]'));
          }
        });
    });
    targetSelect.value = keepTarget;
    perimeterSelect.value = keepPerimeter;
    timelineScope.value = keepScope;
  }

  map.on("mapapp:featuresaved mapapp:featuredeleted", function () {
    fillSelects();
    if (activeTab() === "scenarios" && !resultsBody.hidden) runScenarios();
  });

  /* --- exports and links --------------------------------------------------------------- */

  function refreshExports() {
    var list = document.getElementById("exports-list");
    list.textContent = "";
    cfg.layers.forEach(function (layer) {
      var li = el("li");
      li.appendChild(el("span", null, layer[1] + " : "));
      [["geojson", "GeoJSON"], ["csv", "CSV"], ["fr.csv", t.csvFr], ["gpkg", "GeoPackage"],
       ["gpkg", t.gpkgL93, "EPSG:2154"]].forEach(function (f, i) {
        var a = el("a", null, f[1]);
        var href = cfg.urls.export.replace("__layer__", layer[0]).replace("__fmt__", f[0]);
        a.href = withFilters(href, { crs: f[2] });
        if (i) li.appendChild(document.createTextNode(" · "));
        li.appendChild(a);
      });
      list.appendChild(li);
    });
    document.getElementById("dossier-area").href = withFilters(cfg.urls.dossier);
  }

  function refresh() {
    refreshExports();
    loadSlider();
    var tab = resultsBody.hidden ? null : activeTab();
    if (tab === "scenarios") runScenarios();
    if (tab === "figures") runFigures();
    if (tab === "timeline") runTimeline();
    if (gridLayer) runSuitability(true);
    if (lastCatch) runCatchment(lastCatch, true);
  }

  /* --- start ----------------------------------------------------------------------- */

  sliderControl();
  showFilterState();
  openResults(false);  /* the panel opens with the first result */
  mapapp.whenReady(map, function () {
    fillSelects();
    buildFilters();
    applyToMap();
    refreshExports();
    loadSlider();
    /* A short map leaves room for the legend or the year slider, not both. */
    var legend = map.getContainer().querySelector(".mapapp-legend");
    if (legend && map.getContainer().clientHeight < 700) legend.open = false;
    results.setAttribute("data-ready", "true");
  });
})();
