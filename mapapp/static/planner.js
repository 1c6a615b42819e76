/* mapapp planner tools: add, move, edit, delete and restore coworking sites and
 * candidate perimeters on the map, through the edit API (versions and If-Match).
 *
 * Every write sends the version it read; a 412 means someone saved first: the map
 * shows their version and the form keeps the planner's values to save again.
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
    if (!first && problems.geometry) say(problems.geometry, "error");
    if (first) first.focus();
  }

  function openForm(layerName, feature, version) {
    var layerCfg = cfg.layers[layerName];
    current = { layer: layerName, id: feature.id || null, version: version, feature: feature };
    form.textContent = "";
    form.hidden = false;
    var title = el("h3", null, (feature.id ? feature.properties.name || feature.id : t.new + " – " + layerCfg.title));
    form.appendChild(title);
    layerCfg.fields.forEach(function (field) {
      form.appendChild(fieldInput(field, (feature.properties || {})[field.name]));
    });
    var geomError = el("p", "field-error");
    geomError.id = "f-geometry-error";
    form.appendChild(geomError);
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
    say(t.dragHint);
    makeHandles(layerName, feature);
    if (feature.id) loadHistory(layerName, feature.id); else historyBox.hidden = true;
    form.querySelector("input, select, textarea").focus();
  }

  function closeForm() {
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
    if (!geom) return;
    if (geom.type === "Point") {
      var m = L.marker([geom.coordinates[1], geom.coordinates[0]], {
        draggable: true, icon: handleIcon("site"), keyboard: true, title: t.dragHint
      }).addTo(map);
      m.on("dragend", function () {
        var ll = m.getLatLng();
        current.feature.geometry = { type: "Point", coordinates: [round(ll.lng), round(ll.lat)] };
      });
      handles = [m];
      return;
    }
    var rings = geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates;
    var outline = L.polygon(rings.map(function (poly) {
      return poly[0].slice(0, -1).map(function (c) { return [c[1], c[0]]; });
    }), { color: "#d7191c", weight: 2, dashArray: "4 4", fill: false, interactive: false }).addTo(map);
    handles = [outline];
    rings.forEach(function (poly, pi) {
      poly[0].slice(0, -1).forEach(function (c, ci) {
        var h = L.marker([c[1], c[0]], { draggable: true, icon: handleIcon("corner") }).addTo(map);
        h.on("drag", function () {
          var ll = h.getLatLng();
          var coords = current.feature.geometry.type === "Polygon"
            ? current.feature.geometry.coordinates[0]
            : current.feature.geometry.coordinates[pi][0];
          coords[ci] = [round(ll.lng), round(ll.lat)];
          if (ci === 0) coords[coords.length - 1] = coords[0];
          outline.setLatLngs((current.feature.geometry.type === "Polygon"
            ? [current.feature.geometry.coordinates] : current.feature.geometry.coordinates)
            .map(function (p) { return p[0].slice(0, -1).map(function (k) { return [k[1], k[0]]; }); }));
        });
        handles.push(h);
      });
    });
  }

  function round(v) { return Math.round(v * 1e5) / 1e5; }

  /* --- saving -------------------------------------------------------------------- */

  function afterSave(layerName, feature) {
    var layer = mapapp.upsertFeature(map, layerName, feature);
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
        li.appendChild(el("span", null, h.at.replace("T", " ").replace("Z", " UTC") + " — " +
          (t.actions[h.action] || h.action) + " " + t.by + " " + (h.author || "?") +
          (h.version ? " (" + t.version + " " + h.version + ")" : "")));
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

  function restore(layerName, id, historyId, version) {
    request("POST", url(cfg.urls.features, layerName, id, "/restore"), { history_id: historyId }, version)
      .then(function (res) {
        if (res.status === 200) {
          mapapp.upsertFeature(map, layerName, res.data);
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
    if (drawing && drawing.line) map.removeLayer(drawing.line);
    if (drawing && drawing.finish) drawing.finish.remove();
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

  document.getElementById("add-site").addEventListener("click", function () {
    stopDrawing();
    closeForm();
    drawing = { kind: "site" };
    map.getContainer().style.cursor = "crosshair";
    say(t.clickMap);
  });

  document.getElementById("draw-perimeter").addEventListener("click", function () {
    stopDrawing();
    closeForm();
    drawing = { kind: "perimeter", points: [],
                line: L.polyline([], { color: "#d7191c", dashArray: "4 4" }).addTo(map) };
    map.getContainer().style.cursor = "crosshair";
    var finish = el("button", "finish-drawing", t.finish);
    finish.type = "button";
    finish.addEventListener("click", function () {
      if (!drawing || drawing.points.length < 3) { say(t.clickCorners, "error"); return; }
      var ring = drawing.points.map(function (p) { return [round(p.lng), round(p.lat)]; });
      ring.push(ring[0]);
      stopDrawing();
      newFeature("perimeters", { type: "Polygon", coordinates: [ring] });
    });
    status.parentNode.insertBefore(finish, status.nextSibling);
    drawing.finish = finish;
    say(t.clickCorners);
  });

  map.on("click", function (e) {
    if (!drawing) return;
    if (drawing.kind === "site") {
      stopDrawing();
      newFeature("coworking", { type: "Point", coordinates: [round(e.latlng.lng), round(e.latlng.lat)] });
    } else {
      drawing.points.push(e.latlng);
      drawing.line.setLatLngs(drawing.points);
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
      newFeature("perimeters", geom);
      var bounds = L.geoJSON(geom).getBounds();
      map.fitBounds(bounds, { maxZoom: 16 });
    }).catch(function () { say(t.badFile, "error"); });
    e.target.value = "";
  });

  loadDeleted();
  window.mapappPlanner = { map: map, state: function () { return current; } };
})();
