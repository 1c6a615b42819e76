/* mapapp planner tools: add, move, edit, delete and restore coworking sites and
 * candidate perimeters on the map, through the edit API (versions and If-Match).
 *
 * Every write sends the version it read; a 412 means someone saved first: the map
 * shows their version and the form keeps the planner's values to save again.
 *
 * Nothing needs a mouse: a site's place can be typed (latitude, longitude) or nudged
 * with the arrow keys, a perimeter's corners are a list of coordinates, each
 * nudged the same way, and the map's centre can be taken as a place.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("planner-config").textContent);
  var t = cfg.i18n;
  var map = mapapp.map;
  var form = document.getElementById("feature-form");
  var status = document.getElementById("planner-status");
  var historyBox = document.getElementById("history");
  var historyList = document.getElementById("history-list");
  var deletedList = document.getElementById("deleted-list");
  var current = null;   /* {layer, id|null, version, feature} being edited */
  var handles = null;   /* Leaflet layer(s) used to move or reshape the geometry */
  var drawing = null;   /* {kind: "site"|"perimeter", points, line} while drawing */

  var el = mapapp.el;

  function say(message, kind) {
    status.textContent = message;
    status.className = "status" + (kind ? " status-" + kind : "");
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }

  function url(template, layer, id, suffix) {
    var u = template.replace("__layer__", encodeURIComponent(layer));
    if (id !== undefined && id !== null) u += "/" + encodeURIComponent(id);
    return u + (suffix || "");
  }

  function request(method, target, body, version) {
    var headers = { "X-CSRF-Token": cfg.csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (version !== undefined && version !== null) headers["If-Match"] = '"' + version + '"';
    return fetch(target, {
      method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return { status: 204, data: null };
      return r.json().then(function (data) { return { status: r.status, data: data }; },
                           function () { return { status: r.status, data: {} }; });
    });
  }

  /* --- the form --------------------------------------------------------------- */

  function fieldInput(field, value) {
    var wrap = el("div", "field");
    var id = "f-" + field.name;
    var label = el("label", null, field.label + (field.required ? " *" : ""));
    label.htmlFor = id;
    wrap.appendChild(label);
    var input;
    if (field.choices.length) {
      input = el("select");
      if (!field.required) input.appendChild(el("option", null, "—")).value = "";
      field.choices.forEach(function (c) {
        var o = el("option", null, c[1]);
        o.value = c[0];
        input.appendChild(o);
      });
      input.value = value === undefined || value === null ? (field.required ? field.choices[0][0] : "") : value;
    } else if (field.type === "bool") {
      input = el("input");
      input.type = "checkbox";
      input.checked = value === true;
      wrap.className = "field field-check";
      wrap.insertBefore(input, label);
    } else if (field.name === "notes" || field.name === "description") {
      input = el("textarea");
      input.rows = 3;
      input.value = value === undefined || value === null ? "" : value;
    } else {
      input = el("input");
      input.type = field.type === "int" || field.type === "float" ? "number" : "text";
      if (field.type === "float") input.step = "any";
      if (field.min !== null) input.min = field.min;
      if (field.max !== null) input.max = field.max;
      input.value = value === undefined || value === null ? "" : value;
    }
    input.id = id;
    input.name = field.name;
    if (field.required) input.setAttribute("aria-required", "true");
    var error = el("p", "field-error");
    error.id = id + "-error";
    error.setAttribute("aria-live", "polite");
    input.setAttribute("aria-describedby", error.id);
    if (field.type !== "bool") wrap.appendChild(input);
    wrap.appendChild(error);
    return wrap;
  }

  function readForm(layerCfg) {
    var props = {}, problems = {};
    layerCfg.fields.forEach(function (field) {
      var input = form.elements[field.name];
      var value;
      if (field.type === "bool") value = input.checked;
      else {
        var raw = input.value.trim();
        if (raw === "") value = null;
        else if (field.type === "int" || field.type === "float") {
          value = Number(raw);
          if (!isFinite(value) || (field.type === "int" && !Number.isInteger(value))) {
            problems[field.name] = t.notNumber;
          }
        } else value = raw;
      }
      if (field.required && (value === null || value === "")) problems[field.name] = t.required;
      if (typeof value === "number" && field.min !== null && value < field.min) {
        problems[field.name] = t.tooLow.replace("%(min)s", field.min);
      }
      if (typeof value === "number" && field.max !== null && value > field.max) {
        problems[field.name] = t.tooHigh.replace("%(max)s", field.max);
      }
      props[field.name] = value;
    });
    return { props: props, problems: problems };
  }

  function showProblems(problems) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (p) {
      p.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (i) {
      i.removeAttribute("aria-invalid");
    });
    var first = null;
    Object.keys(problems).forEach(function (name) {
      var input = form.elements[name];
      var box = document.getElementById("f-" + name + "-error");
      if (box) box.textContent = problems[name];
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    });
    if (!first && problems.geometry) {
      say(problems.geometry, "error");
      geometryError(problems.geometry);
    }
    if (first) first.focus();
  }

  function openForm(layerName, feature, version) {
    var layerCfg = cfg.layers[layerName];
    if (feature.id && drawing) stopDrawing();
    current = { layer: layerName, id: feature.id || null, version: version, feature: feature };
    form.textContent = "";
    form.hidden = false;
    var title = el("h3", null, (feature.id ? feature.properties.name || feature.id : t.new + " – " + layerCfg.title));
    form.appendChild(title);
    layerCfg.fields.forEach(function (field) {
      form.appendChild(fieldInput(field, (feature.properties || {})[field.name]));
    });
    form.appendChild(layerCfg.geometry === "Point" ? pointFieldset() : cornersFieldset());
    var actions = el("div", "form-actions");
    var save = el("button", null, t.save);
    save.type = "submit";
    var cancel = el("button", "secondary", t.cancel);
    cancel.type = "button";
    cancel.addEventListener("click", closeForm);
    actions.appendChild(save);
    actions.appendChild(cancel);
    if (feature.id) {
      var del = el("button", "danger", t.delete);
      del.type = "button";
      del.addEventListener("click", deleteCurrent);
      actions.appendChild(del);
    }
    form.appendChild(actions);
    say(feature.geometry ? t.dragHint : (layerCfg.geometry === "Point" ? t.clickMap : t.clickCorners));
    makeHandles(layerName, feature);
    if (feature.id) loadHistory(layerName, feature.id); else historyBox.hidden = true;
    form.querySelector("input, select, textarea").focus();
  }

  function closeForm() {
    if (drawing) stopDrawing();
    form.hidden = true;
    form.textContent = "";
    historyBox.hidden = true;
    clearHandles();
    current = null;
  }

  /* --- geometry handles: drag a site, drag the corners of a perimeter ---------- */

  function clearHandles() {
    if (handles) handles.forEach(function (h) { map.removeLayer(h); });
    handles = null;
  }

  function handleIcon(kind) {
    return L.divIcon({ className: "edit-handle edit-handle-" + kind, iconSize: [18, 18] });
  }

  function makeHandles(layerName, feature) {
    clearHandles();
    var geom = feature.geometry;
    if (!geom && !(current && current.corners && current.corners.length)) return;
    if (geom && geom.type === "Point") {
      var m = L.marker([geom.coordinates[1], geom.coordinates[0]], {
        draggable: true, icon: handleIcon("site"), keyboard: true, title: t.dragHint
      }).addTo(map);
      m.on("dragend", function () {
        var ll = m.getLatLng();
        setPoint(ll.lng, ll.lat, true);
      });
      keyNudge(m.getElement(), function (dx, dy) { nudgePoint(dx, dy); });
      handles = [m];
      return;
    }
    var outline = L[geom ? "polygon" : "polyline"](rings().map(function (ring) {
      return ring.map(function (c) { return [c[1], c[0]]; });
    }), { color: "#d7191c", weight: 2, dashArray: "4 4", fill: false, interactive: false }).addTo(map);
    handles = [outline];
    rings().forEach(function (ring, pi) {
      ring.forEach(function (c, ci) {
        var h = L.marker([c[1], c[0]], { draggable: true, keyboard: true, icon: handleIcon("corner"),
                                         title: cornerName(pi, ci) }).addTo(map);
        h.on("drag", function () {
          var ll = h.getLatLng();
          setCorner(pi, ci, ll.lng, ll.lat, false);
          outline.setLatLngs(rings().map(function (r) {
            return r.map(function (k) { return [k[1], k[0]]; });
          }));
        });
        h.on("dragend", function () { showCorners(); });
        keyNudge(h.getElement(), function (dx, dy) { nudgeCorner(pi, ci, dx, dy); });
        handles.push(h);
      });
    });
  }

  /* --- places by keyboard: coordinates, arrow-key nudging, a list of corners ---------- */

  var M_PER_DEGREE = 111320;

  /* Arrow keys on ``node`` call move(dx, dy) in metres: 10 m, 100 m with Shift,
     1 m with Alt. */
  function keyNudge(node, move) {
    if (!node) return;
    node.addEventListener("keydown", function (e) {
      var dir = { ArrowUp: [0, 1], ArrowDown: [0, -1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] }[e.key];
      if (!dir) return;
      e.preventDefault();
      e.stopPropagation();
      var step = e.shiftKey ? 100 : (e.altKey ? 1 : 10);
      move(dir[0] * step, dir[1] * step);
    });
  }

  function shifted(lon, lat, dx, dy) {
    return [lon + dx / (M_PER_DEGREE * Math.cos(lat * Math.PI / 180)), lat + dy / M_PER_DEGREE];
  }

  function live(message) {
    var box = document.getElementById("f-location-live");
    if (box) box.textContent = message;
  }

  function inArea(lon, lat) {
    var a = cfg.area;
    return lon >= a[0] && lon <= a[2] && lat >= a[1] && lat <= a[3];
  }

  function coordinateInputs(prefix, lat, lon, labelSuffix) {
    var wrap = el("div", "coords");
    [["lat", t.latitude, lat], ["lon", t.longitude, lon]].forEach(function (c) {
      var field = el("div", "field");
      var label = el("label", null, c[1]);
      if (labelSuffix) label.appendChild(el("span", "visually-hidden", labelSuffix));
      var input = el("input");
      input.id = prefix + "-" + c[0];
      input.name = prefix + "-" + c[0];
      input.inputMode = "decimal";
      input.autocomplete = "off";
      input.value = c[2] === null || c[2] === undefined ? "" : String(c[2]);
      label.htmlFor = input.id;
      field.appendChild(label);
      field.appendChild(input);
      wrap.appendChild(field);
    });
    return wrap;
  }

  function readPair(latInput, lonInput) {
    var lat = Number(latInput.value.trim().replace(",", "."));
    var lon = Number(lonInput.value.trim().replace(",", "."));
    var ok = latInput.value.trim() !== "" && lonInput.value.trim() !== "" &&
      isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
    return ok ? [lon, lat] : null;
  }

  function geometryError(message) {
    var box = document.getElementById("f-geometry-error");
    if (box) box.textContent = message || "";
  }

  function pointFieldset() {
    var fs = el("fieldset", "location");
    fs.appendChild(el("legend", null, t.location));
    fs.appendChild(el("p", "hint", t.locationHint));
    var c = current.feature.geometry ? current.feature.geometry.coordinates : [null, null];
    fs.appendChild(addressFinder());
    fs.appendChild(coordinateInputs("f-point", c[1], c[0]));
    var actions = el("div", "tool-buttons");
    var place = el("button", "secondary", t.placeHere);
    place.type = "button";
    place.id = "f-point-place";
    var centre = el("button", "secondary", t.useCentre);
    centre.type = "button";
    var nudge = el("button", "secondary nudge", t.nudge);
    nudge.type = "button";
    nudge.id = "f-point-nudge";
    nudge.setAttribute("aria-describedby", "f-nudge-help");
    actions.appendChild(place);
    actions.appendChild(centre);
    actions.appendChild(nudge);
    fs.appendChild(actions);
    var help = el("p", "hint", t.nudgeHelp);
    help.id = "f-nudge-help";
    fs.appendChild(help);
    fs.appendChild(geometryErrorBox());
    place.addEventListener("click", placeFromInputs);
    fs.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.tagName === "INPUT" && /^f-point-/.test(e.target.id)) {
        e.preventDefault();
        placeFromInputs();
      }
    });
    centre.addEventListener("click", function () {
      var ll = map.getCenter();
      setPoint(ll.lng, ll.lat, true);
    });
    keyNudge(nudge, function (dx, dy) { nudgePoint(dx, dy); });
    return fs;
  }

  /* A site's place from an address, a quarter or a commune (the server's place
     search: imported Base Adresse Nationale addresses and the zones, no outside
     geocoder); choosing a result places the site there. */
  function addressFinder() {
    var wrap = el("div", "address-finder");
    var label = el("label", null, t.address);
    label.htmlFor = "f-place-search";
    var row = el("div", "address-row");
    var input = el("input");
    input.id = "f-place-search";
    input.type = "search";
    input.autocomplete = "off";
    input.setAttribute("aria-describedby", "f-place-search-hint");
    var find = el("button", "secondary", t.findAddress);
    find.type = "button";
    find.id = "f-place-search-find";
    var status = el("p", "hint", t.addressHint);
    status.id = "f-place-search-hint";
    status.setAttribute("aria-live", "polite");
    var list = el("ul", "address-results");
    row.appendChild(input);
    row.appendChild(find);
    wrap.appendChild(label);
    wrap.appendChild(row);
    wrap.appendChild(status);
    wrap.appendChild(list);
    function choose(hit) {
      list.textContent = "";
      input.value = hit.name;
      if (!inArea(hit.lon, hit.lat)) { geometryError(t.outside); return; }
      setPoint(hit.lon, hit.lat, true);
      /* an address found fills the site's own address field when it is empty */
      var own = form.elements["f-address"];
      if (hit.kind === "address" && own && !own.value.trim()) own.value = hit.name;
      map.setView([hit.lat, hit.lon], Math.max(map.getZoom(), 16));
      input.focus();
    }
    function search() {
      var q = input.value.trim();
      list.textContent = "";
      if (q.length < 2) return;
      request("GET", cfg.urls.places + "?q=" + encodeURIComponent(q)).then(function (res) {
        var hits = (res.data && res.data.hits) || [];
        status.textContent = hits.length ? t.addressesFound : t.noAddress;
        hits.forEach(function (hit) {
          var li = el("li");
          var b = el("button", "address-hit", hit.name);
          b.type = "button";
          b.addEventListener("click", function () { choose(hit); });
          li.appendChild(b);
          list.appendChild(li);
        });
      });
    }
    find.addEventListener("click", search);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); search(); }
    });
    return wrap;
  }

  function geometryErrorBox() {
    var wrap = el("div");
    var error = el("p", "field-error");
    error.id = "f-geometry-error";
    error.setAttribute("aria-live", "polite");
    var status = el("p", "visually-hidden");
    status.id = "f-location-live";
    status.setAttribute("aria-live", "polite");
    wrap.appendChild(error);
    wrap.appendChild(status);
    return wrap;
  }

  function placeFromInputs() {
    var pair = readPair(form.elements["f-point-lat"], form.elements["f-point-lon"]);
    if (!pair) { geometryError(t.badCoordinates); return; }
    if (!inArea(pair[0], pair[1])) { geometryError(t.outside); return; }
    setPoint(pair[0], pair[1], true);
    map.setView([pair[1], pair[0]], Math.max(map.getZoom(), 15));
  }

  /* The site's place: geometry, inputs and handle follow one another. */
  function setPoint(lon, lat, redraw) {
    if (!current) return;
    current.feature.geometry = { type: "Point", coordinates: [round(lon), round(lat)] };
    var latInput = form.elements["f-point-lat"], lonInput = form.elements["f-point-lon"];
    if (latInput) { latInput.value = String(round(lat)); lonInput.value = String(round(lon)); }
    geometryError(inArea(lon, lat) ? "" : t.outside);
    live(t.location + " : " + round(lat) + ", " + round(lon));
    if (redraw) {
      if (handles && handles.length === 1 && handles[0].setLatLng) handles[0].setLatLng([lat, lon]);
      else makeHandles(current.layer, current.feature);
    }
    say(t.dragHint);
  }

  function nudgePoint(dx, dy) {
    var g = current && current.feature.geometry;
    if (!g) { say(t.clickMap, "error"); return; }
    var to = shifted(g.coordinates[0], g.coordinates[1], dx, dy);
    setPoint(to[0], to[1], true);
  }

  /* Polygons: the outer ring of each part, without its closing point. */
  function rings() {
    var g = current && current.feature.geometry;
    if (!g) return current && current.corners ? [current.corners] : [];
    var parts = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    return parts.map(function (p) { return p[0].slice(0, -1); });
  }

  function cornerName(pi, ci) {
    var many = rings().length > 1;
    return (many ? t.part + " " + (pi + 1) + ", " : "") + t.corner + " " + (ci + 1);
  }

  /* Write the corners back into the geometry (closed rings; holes kept). */
  function setRings(list) {
    var g = current.feature.geometry;
    if (list[0].length < 3) {
      current.corners = list[0];
      current.feature.geometry = null;
      return;
    }
    current.corners = null;
    var closed = list.map(function (r) { return r.concat([r[0]]); });
    if (!g || g.type === "Polygon") {
      var holes = g ? g.coordinates.slice(1) : [];
      current.feature.geometry = { type: "Polygon", coordinates: [closed[0]].concat(holes) };
    } else {
      current.feature.geometry = { type: "MultiPolygon", coordinates: g.coordinates.map(function (p, i) {
        return [closed[i]].concat(p.slice(1));
      }) };
    }
  }

  function setCorner(pi, ci, lon, lat, redraw) {
    var list = rings().map(function (r) { return r.slice(); });
    list[pi][ci] = [round(lon), round(lat)];
    setRings(list);
    var latInput = form.elements["f-c" + pi + "-" + ci + "-lat"];
    if (latInput) {
      latInput.value = String(round(lat));
      form.elements["f-c" + pi + "-" + ci + "-lon"].value = String(round(lon));
    }
    live(cornerName(pi, ci) + " : " + round(lat) + ", " + round(lon));
    if (redraw) makeHandles(current.layer, current.feature);
  }

  function nudgeCorner(pi, ci, dx, dy) {
    var c = rings()[pi][ci];
    var to = shifted(c[0], c[1], dx, dy);
    setCorner(pi, ci, to[0], to[1], true);
    var row = document.getElementById("f-corner-" + pi + "-" + ci);
    if (row) row.classList.add("is-active");
  }

  function changeCorners(change, focusId) {
    var list = rings().map(function (r) { return r.slice(); });
    if (!list.length) list = [[]];
    change(list);
    setRings(list);
    makeHandles(current.layer, current.feature);
    showCorners();
    var next = focusId && document.getElementById(focusId);
    if (next) next.focus();
  }

  function cornerRow(pi, ci, c, count) {
    var li = el("li");
    li.id = "f-corner-" + pi + "-" + ci;
    li.appendChild(el("span", "vertex-name", cornerName(pi, ci)));
    var coords = coordinateInputs("f-c" + pi + "-" + ci, c[1], c[0], " (" + cornerName(pi, ci) + ")");
    Array.prototype.forEach.call(coords.querySelectorAll(".field"), function (f) { li.appendChild(f); });
    var actions = el("div", "vertex-actions");
    function action(text, label, fn) {
      var b = el("button", "small secondary", text);
      b.type = "button";
      b.setAttribute("aria-label", label + " – " + cornerName(pi, ci));
      b.addEventListener("click", fn);
      actions.appendChild(b);
      return b;
    }
    var nudge = action("✥", t.nudge, function () {});
    nudge.classList.add("nudge");
    nudge.id = "f-corner-" + pi + "-" + ci + "-nudge";
    nudge.setAttribute("aria-describedby", "f-nudge-help");
    keyNudge(nudge, function (dx, dy) { nudgeCorner(pi, ci, dx, dy); });
    action("+", t.insertCorner, function () {
      changeCorners(function (list) {
        var r = list[pi], a = r[ci], b = r[(ci + 1) % r.length] || a;
        r.splice(ci + 1, 0, [round((a[0] + b[0]) / 2), round((a[1] + b[1]) / 2)]);
      }, "f-c" + pi + "-" + (ci + 1) + "-lat");
    });
    var remove = action("×", t.removeCorner, function () {
      changeCorners(function (list) { list[pi].splice(ci, 1); }, "f-add-corner");
    });
    remove.disabled = count <= 3 && current.feature.geometry !== null;
    li.appendChild(actions);
    li.addEventListener("change", function (e) {
      if (e.target.tagName !== "INPUT") return;
      var pair = readPair(form.elements["f-c" + pi + "-" + ci + "-lat"], form.elements["f-c" + pi + "-" + ci + "-lon"]);
      if (!pair) { geometryError(cornerName(pi, ci) + " : " + t.badCoordinates); return; }
      geometryError(inArea(pair[0], pair[1]) ? "" : t.outside);
      setCorner(pi, ci, pair[0], pair[1], true);
    });
    return li;
  }

  function showCorners() {
    var box = document.getElementById("f-corners");
    if (!box) return;
    box.textContent = "";
    rings().forEach(function (ring, pi) {
      if (rings().length > 1) box.appendChild(el("h4", null, t.part + " " + (pi + 1)));
      var ol = el("ol", "vertex-list");
      ring.forEach(function (c, ci) { ol.appendChild(cornerRow(pi, ci, c, ring.length)); });
      box.appendChild(ol);
    });
    if (!rings().length || !rings()[0].length) box.appendChild(el("p", "hint", t.noCorner));
  }

  function cornersFieldset() {
    var fs = el("fieldset", "location");
    fs.appendChild(el("legend", null, t.corners));
    fs.appendChild(el("p", "hint", t.cornersHint));
    var box = el("div");
    box.id = "f-corners";
    fs.appendChild(box);
    var add = el("button", "secondary", t.addCorner);
    add.type = "button";
    add.id = "f-add-corner";
    add.addEventListener("click", function () {
      var ll = map.getCenter();
      changeCorners(function (list) { list[0].push([round(ll.lng), round(ll.lat)]); });
      var n = rings()[0].length;
      live(cornerName(0, n - 1) + " : " + round(ll.lat) + ", " + round(ll.lng));
    });
    fs.appendChild(add);
    var help = el("p", "hint", t.nudgeHelp);
    help.id = "f-nudge-help";
    fs.appendChild(help);
    fs.appendChild(geometryErrorBox());
    setTimeout(showCorners, 0);
    return fs;
  }

  function round(v) { return Math.round(v * 1e5) / 1e5; }

  /* --- saving -------------------------------------------------------------------- */

  function afterSave(layerName, feature) {
    var layer = mapapp.upsertFeature(map, layerName, feature);
    map.fire("mapapp:featuresaved", { layerName: layerName, id: feature.id });
    openForm(layerName, JSON.parse(JSON.stringify(feature)), feature.version);
    say(t.saved, "ok");
    return layer;
  }

  function handleError(res) {
    if (res.status === 412 && res.data.current) {
      var theirs = res.data.current;
      mapapp.upsertFeature(map, current.layer, theirs);
      current.version = theirs.version;
      current.feature.geometry = current.feature.geometry || theirs.geometry;
      say(t.conflict, "error");
      return;
    }
    if (res.data && res.data.problems) {
      var problems = {};
      res.data.problems.forEach(function (p) { problems[p.field] = p.message; });
      showProblems(problems);
      say(t.invalid, "error");
      return;
    }
    say(t.error + " " + ((res.data && res.data.error) || res.status), "error");
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!current) return;
    var read = readForm(cfg.layers[current.layer]);
    if (Object.keys(read.problems).length) {
      showProblems(read.problems);
      say(t.invalid, "error");
      return;
    }
    showProblems({});
    if (!current.feature.geometry) {
      geometryError(cfg.layers[current.layer].geometry === "Point" ? t.noPlace : t.tooFewCorners);
      say(t.invalid, "error");
      var where = form.querySelector(".location input, .location button");
      if (where) where.focus();
      return;
    }
    var body = { type: "Feature", properties: read.props, geometry: current.feature.geometry };
    var layerName = current.layer;
    var target = current.id
      ? url(cfg.urls.features, layerName, current.id)
      : url(cfg.urls.features, layerName);
    request(current.id ? "PATCH" : "POST", target, body, current.id ? current.version : undefined)
      .then(function (res) {
        if (res.status === 200 || res.status === 201) afterSave(layerName, res.data);
        else handleError(res);
      });
  });

  function deleteCurrent() {
    if (!current || !current.id) return;
    var layerName = current.layer, id = current.id;
    request("DELETE", url(cfg.urls.features, layerName, id), undefined, current.version)
      .then(function (res) {
        if (res.status === 204) {
          mapapp.removeFeature(map, layerName, id);
          map.fire("mapapp:featuredeleted", { layerName: layerName, id: id });
          closeForm();
          say(t.deleted, "ok");
          loadDeleted();
        } else handleError(res);
      });
  }

  /* --- history and deleted items ------------------------------------------------ */

  function loadHistory(layerName, id) {
    request("GET", url(cfg.urls.features, layerName, id, "/history")).then(function (res) {
      historyList.textContent = "";
      historyBox.hidden = false;
      var entries = (res.data && res.data.history) || [];
      if (!entries.length) historyList.appendChild(el("li", null, t.noHistory));
      entries.forEach(function (h, i) {
        var li = el("li");
        var when = h.at.replace("T", " ").replace("Z", " UTC");
        var what = h.author === t.publicAuthor && h.action !== "restore"
          ? (h.action === "add" ? t.addedFromPublic : t.fromPublic) + " (" + when.slice(0, 10) + ")"  /* never who sent it */
          : (t.actions[h.action] || h.action) + " " + t.by + " " + (h.author || "?");
        li.appendChild(el("span", null, when + " — " + what +
          (h.version ? " (" + t.version + " " + h.version + ")" : "") +
          (h["import"] ? ", " + fill(t.importedFrom, { file: h["import"].file }) : "")));
        if (i === 0 && h["import"]) li.appendChild(undoImportButton(layerName, h));
        if (i > 0 && h.after) {
          var b = el("button", "small", t.restore);
          b.type = "button";
          b.addEventListener("click", function () { restore(layerName, id, h.id, current && current.version); });
          li.appendChild(b);
        }
        historyList.appendChild(li);
      });
    });
  }

  /* The whole import that made a change, undone at once (not row by row). */
  function undoImportButton(layerName, h) {
    var b = el("button", "small secondary", t.undoImport);
    b.type = "button";
    b.addEventListener("click", function () {
      if (!window.confirm(fill(t.undoConfirm, { file: h["import"].file }))) return;
      request("POST", url(cfg.urls.undoImport, layerName), { history_id: h.id }).then(function (res) {
        if (res.status !== 200) {
          say(fill(t.undoConflict, { error: (res.data && res.data.error) || res.status }), "error");
          return;
        }
        say(fill(t.undone, res.data), "ok");
        /* the map shows the layer as it was before the import */
        setTimeout(function () { window.location.reload(); }, 1500);
      });
    });
    return b;
  }

  function restore(layerName, id, historyId, version) {
    request("POST", url(cfg.urls.features, layerName, id, "/restore"), { history_id: historyId }, version)
      .then(function (res) {
        if (res.status === 200) {
          mapapp.upsertFeature(map, layerName, res.data);
          map.fire("mapapp:featuresaved", { layerName: layerName, id: res.data.id });
          openForm(layerName, res.data, res.data.version);
          say(t.saved, "ok");
          loadDeleted();
        } else handleError(res);
      });
  }

  function loadDeleted() {
    deletedList.textContent = "";
    var pending = Object.keys(cfg.layers).map(function (layerName) {
      return request("GET", url(cfg.urls.deleted, layerName)).then(function (res) {
        return ((res.data && res.data.deleted) || []).map(function (d) {
          d.layer = layerName;
          return d;
        });
      });
    });
    Promise.all(pending).then(function (lists) {
      var all = [].concat.apply([], lists);
      if (!all.length) deletedList.appendChild(el("li", null, t.nothingDeleted));
      all.forEach(function (d) {
        var li = el("li");
        li.appendChild(el("span", null, ((d.state && d.state.properties.name) || d.id) +
          " — " + cfg.layers[d.layer].title));
        var b = el("button", "small", t.undelete);
        b.type = "button";
        b.addEventListener("click", function () { restore(d.layer, d.id, d.history_id); });
        li.appendChild(b);
        deletedList.appendChild(li);
      });
    });
  }

  /* --- selecting, adding, drawing, uploading ------------------------------------- */

  map.on("mapapp:featureopen", function (e) {
    var measuring = window.mapappAnalysis && window.mapappAnalysis.measuring;
    if (drawing || measuring) {  /* a click on a feature places the point there */
      var at = e.layer.getPopup().getLatLng();
      e.layer.closePopup();
      map.fire("click", { latlng: at });
      return;
    }
    if (!cfg.layers[e.layerName]) return;
    request("GET", url(cfg.urls.features, e.layerName, e.id)).then(function (res) {
      if (res.status === 200) openForm(e.layerName, res.data, res.data.version);
    });
  });

  function stopDrawing() {
    map.getContainer().style.cursor = "";
    drawing = null;
  }

  function newFeature(layerName, geometry) {
    var props = { status: layerName === "coworking" ? "planned" : "candidate",
                  published: false, precision: "exact" };
    if (layerName === "coworking") props.kind = "coworking";
    props.source = "Saisie planificateur (" + cfg.user + ")";
    props.source_date = new Date().toISOString().slice(0, 10);
    openForm(layerName, { type: "Feature", properties: props, geometry: geometry }, null);
  }

  /* Adding a site or drawing a perimeter opens the form at once: the place comes from
     clicks on the map, typed coordinates, the map's centre or the arrow keys. */
  document.getElementById("add-site").addEventListener("click", function () {
    stopDrawing();
    closeForm();
    if (window.mapappAnalysis && window.mapappAnalysis.setMeasuring) window.mapappAnalysis.setMeasuring(false);
    newFeature("coworking", null);
    drawing = { kind: "site" };
    map.getContainer().style.cursor = "crosshair";
    say(t.clickMap);
  });

  document.getElementById("draw-perimeter").addEventListener("click", function () {
    stopDrawing();
    closeForm();
    if (window.mapappAnalysis && window.mapappAnalysis.setMeasuring) window.mapappAnalysis.setMeasuring(false);
    newFeature("perimeters", null);
    current.corners = [];
    drawing = { kind: "perimeter" };
    map.getContainer().style.cursor = "crosshair";
    say(t.clickCorners);
  });

  map.on("click", function (e) {
    if (!drawing || !current || current.id) return;
    if (drawing.kind === "site") {
      setPoint(e.latlng.lng, e.latlng.lat, true);
    } else {
      changeCorners(function (list) { list[0].push([round(e.latlng.lng), round(e.latlng.lat)]); });
    }
  });

  document.getElementById("upload-polygon").addEventListener("change", function (e) {
    var file = e.target.files[0];
    if (!file) return;
    file.text().then(function (text) {
      var data = JSON.parse(text);
      var geom = data.type === "FeatureCollection" ? (data.features[0] || {}).geometry
        : data.type === "Feature" ? data.geometry : data;
      if (!geom || (geom.type !== "Polygon" && geom.type !== "MultiPolygon")) throw new Error("no polygon");
      stopDrawing();
      closeForm();
      newFeature("perimeters", geom);
      var bounds = L.geoJSON(geom).getBounds();
      map.fitBounds(bounds, { maxZoom: 16 });
    }).catch(function () { say(t.badFile, "error"); });
    e.target.value = "";
  });

  loadDeleted();
  window.mapappPlanner = { map: map, state: function () { return current; } };
})();
