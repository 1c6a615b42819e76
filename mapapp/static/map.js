/* mapapp public map: draws the layers configured by the server and the controls.
 *
 * Every string that comes from data is put in the page as a text node
 * (textContent), never as HTML, so names such as "<img onerror=...>" or "${...}"
 * show as text. Links are only made for http(s) URLs.
 */
(function () {
  "use strict";

  var mapapp = {};
  window.mapapp = mapapp;

  /* An element with a class and a text node: data never becomes HTML. The one
     helper of every mapapp script (planner.js and analysis.js use mapapp.el). */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  mapapp.el = el;

  /* The page's map, set when its first layer or its controls are added: the explicit
     handle the planner scripts use (mapapp.map). */
  mapapp.map = null;

  function state(map) {
    if (!map._mapapp) {
      mapapp.map = mapapp.map || map;
      map._mapapp = { layers: {}, order: [], pending: 0, ready: [] };
      /* Zones under outlines under points, whatever order the layers come in. */
      map.createPane("mapapp-zones").style.zIndex = 380;
      map.createPane("mapapp-outlines").style.zIndex = 390;
    }
    return map._mapapp;
  }

  function safeUrl(value) {
    try {
      var url = new URL(String(value), window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function normalise(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  mapapp.normalise = normalise;

  /* The index of the class holding a value (classes of min <= v < max), or -1. */
  function classIndex(cfg, value) {
    if (typeof value !== "number") return -1;
    for (var i = 0; i < cfg.classes.length; i++) {
      if (value >= cfg.classes[i].min && value < cfg.classes[i].max) return i;
    }
    return value >= cfg.classes[cfg.classes.length - 1].max ? cfg.classes.length - 1 : -1;
  }
  mapapp.classIndex = classIndex;

  function categoryColor(cfg, props) {
    if (cfg.classes) {
      var k = classIndex(cfg, props[cfg.classField]);
      return k === -1 ? "#cccccc" : cfg.classes[k].color;
    }
    var value = cfg.categoryField ? props[cfg.categoryField] : null;
    for (var j = 0; j < cfg.categories.length; j++) {
      if (cfg.categories[j].value === value) return cfg.categories[j].color;
    }
    return cfg.color;
  }

  function formatValue(field, value, i18n) {
    if (field.choices && Object.prototype.hasOwnProperty.call(field.choices, value)) {
      return field.choices[value];
    }
    if (field.type === "float" && typeof value === "number" && value <= 1) {
      return Math.round(value * 1000) / 10 + " %";
    }
    if (typeof value === "number") return value.toLocaleString(i18n.locale);
    if (typeof value === "boolean") return value ? i18n.yes : i18n.no;
    return String(value);
  }

  /* The popup of one feature, built from text nodes only. */
  function popupContent(cfg, feature, i18n) {
    var p = feature.properties || {};
    var box = el("div", "mapapp-popup");
    box.setAttribute("lang", i18n.lang);
    box.appendChild(el("h3", "mapapp-popup-title", p[cfg.labelField] || p.id));
    box.appendChild(el("p", "mapapp-popup-layer", cfg.title));
    var flags = el("p", "mapapp-flags");
    var placed = { approximate: i18n.approximate, street: i18n.streetLevel, commune: i18n.communeLevel };
    if (placed[p.precision]) flags.appendChild(el("span", "mapapp-flag", placed[p.precision]));
    if (p.illustrative) flags.appendChild(el("span", "mapapp-flag mapapp-flag-illustrative", i18n.illustrative));
    if (flags.childNodes.length) box.appendChild(flags);
    var dl = el("dl");
    cfg.popup.forEach(function (name) {
      var value = p[name];
      if (value === undefined || value === null || value === "") return;
      var field = cfg.fields[name];
      dl.appendChild(el("dt", null, field.label));
      var dd = el("dd");
      var url = name === "website" ? safeUrl(value) : null;
      if (url) {
        var a = el("a", null, String(value).replace(/^https?:\/\//, ""));
        a.href = url;
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        dd.appendChild(a);
      } else {
        dd.textContent = formatValue(field, value, i18n);
        /* an inferred NAF code is not the register's: say so beside it */
        if (name === "naf_code" && p.naf_inferred) dd.textContent += " (" + i18n.nafInferred + ")";
        if (name === "headcount_source" && p.headcount_date) dd.textContent += ", " + p.headcount_date;
      }
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    if (p.notes) box.appendChild(el("p", "mapapp-notes", p.notes));
    var src = el("p", "mapapp-source");
    src.appendChild(el("span", null, i18n.source + (i18n.lang === "fr" ? " : " : ": ")));
    var srcUrl = safeUrl(p.source_url);
    if (srcUrl) {
      var link = el("a", null, p.source);
      link.href = srcUrl;
      link.rel = "noopener noreferrer nofollow";
      link.target = "_blank";
      src.appendChild(link);
    } else {
      src.appendChild(el("span", null, p.source));
    }
    if (p.source_date) src.appendChild(el("span", null, " (" + p.source_date + ")"));
    box.appendChild(src);
    if (p.source_date) {
      box.appendChild(el("p", "mapapp-confirmed", (i18n.confirmed || "") + " " + p.source_date));
    }
    if (p.precision === "commune" && i18n.communeNote) box.appendChild(el("p", "mapapp-notes", i18n.communeNote));
    return box;
  }

  /* Features located at commune level only are not drawn as points: one badge per
     commune (at its anchor) counts them, and its popup lists them; choosing a name
     shows that feature's card. */
  function communeBadges(map, entry, features) {
    var byCommune = {};
    features.forEach(function (f) {
      var key = (f.properties || {}).commune_code || f.geometry.coordinates.join(",");
      (byCommune[key] = byCommune[key] || []).push(f);
    });
    var made = [];
    Object.keys(byCommune).forEach(function (key) {
      var list = byCommune[key];
      var c = list[0].geometry.coordinates;
      var badge = el("span", "mapapp-commune-badge", String(list.length));
      var marker = L.marker([c[1], c[0]], {
        icon: L.divIcon({ html: badge, className: "mapapp-commune-icon", iconSize: [28, 28] }),
        keyboard: true, title: list.length + " " + (state(map).i18n || mapapp.defaultI18n).communeCount
      });
      marker.bindPopup(function () {
        var i18n = state(map).i18n || mapapp.defaultI18n;
        var box = el("div", "mapapp-popup mapapp-commune-list");
        box.appendChild(el("h3", "mapapp-popup-title", entry.cfg.title));
        box.appendChild(el("p", "mapapp-flags", list.length + " " + i18n.communeCount));
        var ul = el("ul");
        list.forEach(function (f) {
          var b = el("button", "mapapp-link-button", f.properties[entry.cfg.labelField] || f.id);
          b.type = "button";
          L.DomEvent.on(b, "click", function (e) {
            L.DomEvent.stop(e);
            marker.setPopupContent(popupContent(entry.cfg, f, i18n));
          });
          var li = el("li");
          li.appendChild(b);
          ul.appendChild(li);
        });
        box.appendChild(ul);
        return box;
      }, { maxWidth: 320 });
      list.forEach(function (f) {
        var name = f.properties[entry.cfg.labelField] || f.id;
        entry.features.push({ id: f.properties.id, name: name, key: normalise(name), layer: marker,
                              props: f.properties });
      });
      made.push(marker);
    });
    return made;
  }

  /* Leaflet layers for a FeatureCollection of one configured layer, registered for
     search and added to the layer's group. */
  function makeLayers(map, entry, data) {
    var cfg = entry.cfg;
    var atCommune = (data.features || []).filter(function (f) {
      return (f.properties || {}).precision === "commune" && f.geometry && f.geometry.type === "Point";
    });
    if (atCommune.length) {
      data = { type: "FeatureCollection", features: data.features.filter(function (f) { return atCommune.indexOf(f) === -1; }) };
    }
    var geo = L.geoJSON(data, {
      pane: cfg.geometry === "Point" ? "overlayPane" : (cfg.classes ? "mapapp-zones" : "mapapp-outlines"),
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 7 });
      },
      style: function (feature) {
        var p = feature.properties || {};
        var fill = categoryColor(cfg, p);
        var draft = p.published === false;  /* planners see unpublished items dashed */
        if (cfg.geometry === "Point") {  /* GeoJSON styles circle markers too */
          return { radius: 7, weight: draft ? 2.5 : 1.5, color: draft ? "#1d2530" : "#ffffff",
                   dashArray: draft ? "3 3" : null, opacity: 1, fillColor: fill,
                   fillOpacity: draft ? 0.55 : 0.95 };
        }
        return { color: cfg.classes ? "#555555" : fill, weight: cfg.classes ? 1 : 2,
                 dashArray: draft ? "6 4" : null,
                 fillColor: fill, fillOpacity: cfg.classes ? 0.55 : 0.15 };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        var label = p[cfg.labelField] || p.id;
        layer.feature = feature;
        layer.bindTooltip(el("span", null, label), { direction: "top", sticky: cfg.geometry !== "Point" });
        layer.bindPopup(function () {
          return popupContent(cfg, layer.feature, state(map).i18n || mapapp.defaultI18n);
        }, { maxWidth: 320, autoPanPadding: [20, 20] });
        layer.on("popupopen", function () {
          mapapp.remember(map, cfg.name, p.id);
          map.fire("mapapp:featureopen", { layerName: cfg.name, id: p.id, layer: layer,
                                           feature: layer.feature });
        });
        layer.on("popupclose", function () { mapapp.remember(map, null, null); });
        entry.features.push({ id: p.id, name: label, key: normalise(label), layer: layer });
      }
    });
    var made = geo.getLayers().concat(communeBadges(map, entry, atCommune));
    if (entry.group.addLayers) entry.group.addLayers(made);
    else made.forEach(function (l) { entry.group.addLayer(l); });
    entry.count = entry.features.length;
    return made;
  }

  function drawLayer(map, entry, data) {
    makeLayers(map, entry, data);
    entry.loaded = true;
    var s = state(map);
    s.pending -= 1;
    if (s.pending === 0) s.ready.splice(0).forEach(function (fn) { fn(); });
    map.fire("mapapp:layerloaded", { name: entry.cfg.name, count: entry.count });
  }

  /* Remove one feature (by id) from a drawn layer. */
  mapapp.removeFeature = function (map, layerName, id) {
    var entry = state(map).layers[layerName];
    entry.features = entry.features.filter(function (f) {
      if (String(f.id) !== String(id)) return true;
      entry.group.removeLayer(f.layer);
      return false;
    });
    entry.count = entry.features.length;
  };

  /* Add or replace one feature (a GeoJSON Feature) in a drawn layer; returns its
     Leaflet layer. Used by the planner tools after a save. */
  mapapp.upsertFeature = function (map, layerName, feature) {
    var entry = state(map).layers[layerName];
    mapapp.removeFeature(map, layerName, feature.id);
    return makeLayers(map, entry, { type: "FeatureCollection", features: [feature] })[0];
  };

  /* Show only the features of a layer whose properties pass ``keep`` (null: all). */
  mapapp.setFilter = function (map, layerName, keep) {
    var entry = state(map).layers[layerName];
    if (!entry || entry.remoteLayer) return;
    var show = [], hide = [], badges = [];
    entry.features.forEach(function (f) {
      var props = f.props || (f.layer.feature ? f.layer.feature.properties || {} : {});
      var ok = !keep || keep(props);
      if (f.props) {  /* a commune badge: shown while one of its features passes */
        if (badges.indexOf(f.layer) === -1) { badges.push(f.layer); f.layer._mapappShow = false; }
        f.layer._mapappShow = f.layer._mapappShow || ok;
        return;
      }
      var has = entry.group.hasLayer(f.layer);
      if (ok && !has) show.push(f.layer);
      if (!ok && has) hide.push(f.layer);
    });
    badges.forEach(function (b) {
      var has = entry.group.hasLayer(b);
      if (b._mapappShow && !has) show.push(b);
      if (!b._mapappShow && has) hide.push(b);
    });
    if (entry.group.removeLayers) entry.group.removeLayers(hide);
    else hide.forEach(function (l) { entry.group.removeLayer(l); });
    if (entry.group.addLayers) entry.group.addLayers(show);
    else show.forEach(function (l) { entry.group.addLayer(l); });
  };

  mapapp.layerEntry = function (map, layerName) { return state(map).layers[layerName]; };

  mapapp.findFeature = function (map, layerName, id) {
    var entry = state(map).layers[layerName];
    return entry.features.filter(function (f) { return String(f.id) === String(id); })[0];
  };

  function pointStyle(color) {
    return { radius: 7, weight: 1.5, color: "#ffffff", opacity: 1, fillColor: color, fillOpacity: 0.95 };
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  /* A large layer: compact integer arrays; popups and tooltips fetched on demand. */
  function drawRemote(map, entry, data) {
    var cfg = entry.cfg;
    var renderer = L.canvas({ padding: 0.3 });
    var colors = data.categories.map(function (value) {
      for (var j = 0; j < cfg.categories.length; j++) {
        if (cfg.categories[j].value === value) return cfg.categories[j].color;
      }
      return cfg.color;
    });
    var markers = new Array(data.count);
    var x = 0, y = 0;
    for (var i = 0; i < data.count; i++) {
      x += data.dx[i];
      y += data.dy[i];
      var m = L.circleMarker([y / data.scale, x / data.scale],
        Object.assign({ renderer: renderer }, pointStyle(colors[data.c[i]] || cfg.color)));
      m._mapappIndex = i;
      markers[i] = m;
    }
    entry.markers = markers;
    entry.group.on("click", function (e) { mapapp.openRemote(map, entry, e.layer); });
    if (entry.group.addLayers) entry.group.addLayers(markers);
    else markers.forEach(function (mk) { entry.group.addLayer(mk); });
    entry.count = data.count;
    entry.loaded = true;
    var s = state(map);
    s.pending -= 1;
    if (s.pending === 0) s.ready.splice(0).forEach(function (fn) { fn(); });
    map.fire("mapapp:layerloaded", { name: cfg.name, count: entry.count });
  }

  /* Bring a layer out of its cluster (zooming in, spiderfying coincident points),
     then call done. markercluster's zoomToShowLayer only works for icon markers. */
  function reveal(map, group, layer, done) {
    if (!map.hasLayer(group)) group.addTo(map);
    if (!group.getVisibleParent) {
      if (layer.getBounds) map.fitBounds(layer.getBounds(), { maxZoom: 16 });
      else map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16));
      done();
      return;
    }
    var target = Math.max(map.getZoom(), 18);
    function finish() {
      var parent = group.getVisibleParent(layer);
      if (parent && parent !== layer && parent.spiderfy) {
        group.once("spiderfied", function () { done(); });
        parent.spiderfy();
      } else {
        done();
      }
    }
    function settle() {
      if (group._inZoomAnimation) group.once("animationend", settle); else finish();
    }
    if (map.getZoom() === target && map.getBounds().contains(layer.getLatLng())) {
      finish();
      return;
    }
    map.once("moveend", function () { setTimeout(settle, 0); });
    map.setView(layer.getLatLng(), target, { animate: false });
  }
  mapapp.reveal = reveal;

  /* Fetch one feature of a large layer and open its popup on its marker. */
  mapapp.openRemote = function (map, entry, marker) {
    var i18n = state(map).i18n || mapapp.defaultI18n;
    var url = entry.cfg.remote.item.replace("{index}", String(marker._mapappIndex));
    return fetchJSON(url).then(function (feature) {
      if (!marker.getPopup()) {
        marker.bindPopup(popupContent(entry.cfg, feature, i18n), { maxWidth: 320 });
        marker.on("popupclose", function () { mapapp.remember(map, null, null); });
      }
      marker.openPopup();
      mapapp.remember(map, entry.cfg.name, feature.id);
    }).catch(function () { mapapp.announce(map, i18n.loadError + " " + entry.cfg.title); });
  };

  /* Add one configured layer (inline GeoJSON or a URL to fetch). */
  mapapp.addLayer = function (map, cfg) {
    var s = state(map);
    var group = cfg.cluster && L.markerClusterGroup
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45 })
      : L.featureGroup();
    var entry = { cfg: cfg, group: group, features: [], loaded: false, count: 0 };
    s.layers[cfg.name] = entry;
    s.order.push(cfg.name);
    s.pending += 1;
    if (cfg.visible !== false) group.addTo(map);
    if (cfg.data) {
      drawLayer(map, entry, cfg.data);
    } else if (cfg.remote) {
      entry.remoteLayer = true;
      fetchJSON(cfg.remote.points)
        .then(function (data) { drawRemote(map, entry, data); })
        .catch(function () {
          drawRemote(map, entry, { count: 0, dx: [], dy: [], c: [], categories: [], scale: 1 });
          mapapp.announce(map, (s.i18n || mapapp.defaultI18n).loadError + " " + cfg.title);
        });
    } else {
      fetch(cfg.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (data) { drawLayer(map, entry, data); })
        .catch(function (err) {
          entry.error = String(err);
          drawLayer(map, entry, { type: "FeatureCollection", features: [] });
          mapapp.announce(map, (s.i18n || mapapp.defaultI18n).loadError + " " + cfg.title);
        });
    }
  };

  mapapp.whenReady = function (map, fn) {
    var s = state(map);
    if (s.pending === 0) fn(); else s.ready.push(fn);
  };

  mapapp.defaultI18n = {
    lang: "fr", locale: "fr-FR", approximate: "Localisation approximative",
    illustrative: "Valeurs illustratives", source: "Source", yes: "oui", no: "non",
    loadError: "Impossible de charger la couche", legend: "Légende", layers: "Couches",
    search: "Rechercher un lieu", searchLabel: "Rechercher par nom", noResult: "Aucun résultat",
    results: "résultats", fullscreen: "Plein écran", exitFullscreen: "Quitter le plein écran",
    locate: "Me localiser", locateError: "Position indisponible", reset: "Vue initiale",
    youAreHere: "Vous êtes ici", streetLevel: "Localisation à la rue seulement",
    communeLevel: "Localisation à la commune seulement",
    communeNote: "Aucune source ne donne d'adresse ni de quartier : listée par commune, pas dessinée comme un point.",
    nafInferred: "déduit de l'activité", confirmed: "Confirmé par une source de",
    communeCount: "localisés à la commune seulement"
  };

  /* A polite live region for short messages (screen readers read them). */
  mapapp.announce = function (map, message) {
    var s = state(map);
    if (!s.live) {
      s.live = el("div", "mapapp-live");
      s.live.setAttribute("role", "status");
      s.live.setAttribute("aria-live", "polite");
      map.getContainer().appendChild(s.live);
    }
    s.live.textContent = message;
  };

  /* Keep the view in the URL so a copied link reopens it (permalink). */
  mapapp.remember = function (map, layer, id) {
    var s = state(map);
    if (!s.options || !s.options.permalink) return;
    if (layer !== undefined) s.openFeature = layer ? layer + ":" + id : null;
    var params = new URLSearchParams(window.location.search);
    var c = map.getCenter();
    params.set("center", c.lat.toFixed(5) + "," + c.lng.toFixed(5));
    params.set("zoom", String(map.getZoom()));
    var visible = s.order.filter(function (n) { return map.hasLayer(s.layers[n].group); });
    params.set("layers", visible.join(","));
    if (s.openFeature) params.set("feature", s.openFeature); else params.delete("feature");
    var url = window.location.pathname + "?" + params.toString() + window.location.hash;
    try { window.history.replaceState(null, "", url); } catch (e) { /* sandboxed frame */ }
  };

  function button(container, className, label, onClick) {
    var b = el("button", "mapapp-button " + className);
    b.type = "button";
    b.title = label;
    b.setAttribute("aria-label", label);
    L.DomEvent.disableClickPropagation(b);
    L.DomEvent.on(b, "click", function (e) { L.DomEvent.preventDefault(e); onClick(b); });
    container.appendChild(b);
    return b;
  }

  function legendControl(map, s, i18n) {
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var box = el("details", "mapapp-legend leaflet-control");
      if (window.innerWidth > 600) box.open = true;
      box.appendChild(el("summary", null, i18n.legend));
      s.order.forEach(function (name) {
        var cfg = s.layers[name].cfg;
        var section = el("section", "mapapp-legend-layer");
        section.dataset.layer = name;
        section.appendChild(el("h4", null, cfg.title));
        var items = cfg.classes
          ? cfg.classes.map(function (c) { return { label: c.label, color: c.color }; })
          : cfg.categories;
        var ul = el("ul");
        items.forEach(function (item) {
          var li = el("li");
          var sw = el("span", "mapapp-swatch" + (cfg.geometry === "Point" ? " mapapp-swatch-point" : ""));
          sw.style.background = item.color;
          sw.setAttribute("aria-hidden", "true");
          li.appendChild(sw);
          li.appendChild(el("span", null, item.label));
          ul.appendChild(li);
        });
        section.appendChild(ul);
        section.hidden = !map.hasLayer(s.layers[name].group);
        box.appendChild(section);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    function sync() {
      var box = ctl.getContainer();
      s.order.forEach(function (name) {
        var sec = box.querySelector('[data-layer="' + name + '"]');
        if (sec) sec.hidden = !map.hasLayer(s.layers[name].group);
      });
    }
    map.on("overlayadd overlayremove", sync);
  }

  function searchControl(map, s, i18n) {
    var ctl = L.control({ position: "topleft" });
    ctl.onAdd = function () {
      var box = el("div", "mapapp-search leaflet-control");
      box.setAttribute("role", "search");
      var id = "mapapp-search-" + L.stamp(map);
      var label = el("label", "mapapp-visually-hidden", i18n.searchLabel);
      label.htmlFor = id;
      var input = el("input");
      input.id = id;
      input.type = "search";
      input.placeholder = i18n.search;
      input.autocomplete = "off";
      var list = el("ul", "mapapp-search-results");
      var status = el("p", "mapapp-visually-hidden");
      status.setAttribute("aria-live", "polite");
      box.appendChild(label);
      box.appendChild(input);
      box.appendChild(list);
      box.appendChild(status);
      function choose(hit) {
        list.textContent = "";
        input.value = hit.name;
        var entry = s.layers[hit.layerName];
        var group = entry.group;
        if (!map.hasLayer(group)) group.addTo(map);
        if (hit.remoteIndex !== undefined) {
          var marker = entry.markers[hit.remoteIndex];
          reveal(map, group, marker, function () { mapapp.openRemote(map, entry, marker); });
          return;
        }
        reveal(map, group, hit.layer, function () { hit.layer.openPopup(); });
      }
      function run() {
        var q = normalise(input.value.trim());
        list.textContent = "";
        if (q.length < 2) { status.textContent = ""; return; }
        var hits = [];
        s.order.forEach(function (name) {
          s.layers[name].features.forEach(function (f) {
            if (hits.length < 8 && f.key.indexOf(q) !== -1) {
              hits.push({ name: f.name, layer: f.layer, layerName: name, title: s.layers[name].cfg.title });
            }
          });
        });
        render(hits);
        var remote = s.order.filter(function (n) { return s.layers[n].remoteLayer; });
        if (remote.length && hits.length < 8) {
          var token = s.searchToken = (s.searchToken || 0) + 1;
          clearTimeout(s.searchTimer);
          s.searchTimer = setTimeout(function () {
            remote.forEach(function (name) {
              fetchJSON(s.layers[name].cfg.remote.search + "&q=" + encodeURIComponent(input.value.trim()))
                .then(function (res) {
                  if (token !== s.searchToken) return;
                  res.hits.forEach(function (h) {
                    if (hits.length >= 8) return;
                    hits.push({ name: h.name, title: s.layers[name].cfg.title, layerName: name,
                                remoteIndex: h.index, latlng: [h.lat, h.lon] });
                  });
                  render(hits);
                }).catch(function () { /* the local results stay */ });
            });
          }, 200);
        }
      }
      function render(hits) {
        list.textContent = "";
        hits.forEach(function (hit) {
          var li = el("li");
          var b = el("button", "mapapp-search-hit");
          b.type = "button";
          b.appendChild(el("span", "mapapp-search-name", hit.name));
          b.appendChild(el("span", "mapapp-search-layer", hit.title));
          L.DomEvent.on(b, "click", function (e) {
            /* choose() empties the list: let the click finish first, or Leaflet,
               no longer finding the control above the detached button, takes it
               for a click on the map and closes the popup just opened. */
            L.DomEvent.stop(e);
            setTimeout(function () { choose(hit); }, 0);
          });
          li.appendChild(b);
          list.appendChild(li);
        });
        status.textContent = hits.length ? hits.length + " " + i18n.results : i18n.noResult;
        if (!hits.length) list.appendChild(el("li", "mapapp-search-empty", i18n.noResult));
        s.lastHits = hits;
      }
      L.DomEvent.on(input, "input", run);
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter" && s.lastHits && s.lastHits.length) { choose(s.lastHits[0]); }
        if (e.key === "ArrowDown") {
          var first = list.querySelector("button");
          if (first) { first.focus(); L.DomEvent.preventDefault(e); }
        }
        if (e.key === "Escape") { input.value = ""; list.textContent = ""; }
      });
      L.DomEvent.on(list, "keydown", function (e) {
        var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
        var i = buttons.indexOf(document.activeElement);
        if (e.key === "ArrowDown" && i < buttons.length - 1) { buttons[i + 1].focus(); L.DomEvent.preventDefault(e); }
        if (e.key === "ArrowUp") { (i > 0 ? buttons[i - 1] : input).focus(); L.DomEvent.preventDefault(e); }
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
  }

  function toolsControl(map, s, i18n, options) {
    var ctl = L.control({ position: "topleft" });
    ctl.onAdd = function () {
      var bar = el("div", "leaflet-bar mapapp-tools leaflet-control");
      if (options.reset) {
        button(bar, "mapapp-reset", i18n.reset, function () {
          map.setView(options.home.center, options.home.zoom);
        });
      }
      if (options.fullscreen) {
        var container = map.getContainer();
        button(bar, "mapapp-fullscreen", i18n.fullscreen, function (b) {
          var full = document.fullscreenElement === container ||
            container.classList.contains("mapapp-is-fullscreen");
          if (full) {
            if (document.fullscreenElement) document.exitFullscreen();
            container.classList.remove("mapapp-is-fullscreen");
          } else if (container.requestFullscreen) {
            container.requestFullscreen().catch(function () {
              container.classList.add("mapapp-is-fullscreen");
              map.invalidateSize();
            });
          } else {
            container.classList.add("mapapp-is-fullscreen");
          }
          b.setAttribute("aria-pressed", String(!full));
          b.title = full ? i18n.fullscreen : i18n.exitFullscreen;
          setTimeout(function () { map.invalidateSize(); }, 200);
        });
      }
      if (options.locate) {
        var here = null;
        button(bar, "mapapp-locate", i18n.locate, function () {
          map.locate({ setView: true, maxZoom: 16 });
        });
        map.on("locationfound", function (e) {
          if (here) map.removeLayer(here);
          here = L.circle(e.latlng, { radius: e.accuracy, weight: 1, color: "#136aec" })
            .bindTooltip(el("span", null, i18n.youAreHere)).addTo(map);
        });
        map.on("locationerror", function () { mapapp.announce(map, i18n.locateError); });
      }
      return bar;
    };
    ctl.addTo(map);
  }

  function openFeature(map, s, ref, remoteIndex) {
    if (!ref) return;
    var name = String(ref).split(":")[0];
    if (s.layers[name] && s.layers[name].remoteLayer) {
      var entry = s.layers[name];
      var marker = remoteIndex !== null && remoteIndex !== undefined ? entry.markers[remoteIndex] : null;
      if (!marker) return;
      reveal(map, entry.group, marker, function () { mapapp.openRemote(map, entry, marker); });
      return;
    }
    var parts = String(ref).split(":");
    var local = s.layers[parts[0]];
    if (!local) return;
    var id = parts.slice(1).join(":");
    var hit = local.features.filter(function (f) { return String(f.id) === id; })[0];
    if (!hit) return;
    if (local.group.getVisibleParent) {
      reveal(map, local.group, hit.layer, function () { hit.layer.openPopup(); });
    } else {
      hit.layer.openPopup();  /* the page opened on the view the link asked for */
    }
  }

  /* Controls added once every layer is configured. */
  mapapp.finish = function (map, options) {
    var s = state(map);
    options = options || {};
    var i18n = Object.assign({}, mapapp.defaultI18n, options.i18n || {});
    s.i18n = i18n;
    s.options = options;
    var overlays = {};
    s.order.forEach(function (name) {
      var holder = el("span", null, s.layers[name].cfg.title);
      overlays[holder.outerHTML] = s.layers[name].group;
    });
    if (options.layerControl !== false) {
      L.control.layers(null, overlays, { collapsed: window.innerWidth < 700 || !!options.collapsed }).addTo(map);
    }
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    if (options.search) searchControl(map, s, i18n);
    if (options.reset || options.fullscreen || options.locate) toolsControl(map, s, i18n, options);
    if (options.legend) legendControl(map, s, i18n);
    map.on("moveend overlayadd overlayremove", function () { mapapp.remember(map); });
    mapapp.whenReady(map, function () {
      openFeature(map, s, options.feature, options.featureIndex);
      map.getContainer().setAttribute("data-mapapp-ready", "true");
      map.fire("mapapp:ready");
    });
  };
})();
