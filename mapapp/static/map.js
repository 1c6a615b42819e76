/* mapapp public map: draws the layers configured by the server and the controls.
 *
 * Every string that comes from data is put in the page as a text node
 * (textContent), never as HTML, so names such as "<img onerror=...>" or "${...}"
 * show as text. Links are only made for http(s) URLs.
 *
 * Accessibility: the search box and the layer controls come first in the tab order;
 * markers are not tab stops (features are reached by the search and by the data
 * browser, a list of the places in view); a card (popup) takes the focus when it
 * opens and gives it back when it closes. Cards and panels are drawn above every
 * control: a bottom sheet on narrow maps, a side panel otherwise.
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

  var SVGNS = "http://www.w3.org/2000/svg";
  var NARROW = 600;  /* px of map width below which cards are bottom sheets */
  var COMPACT = 800;  /* px below which the panel buttons show their icons only */

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
      /* Cards live in the map container itself, above the controls, never panned. */
      map.createPane("mapapp-cards", map.getContainer());
    }
    return map._mapapp;
  }

  function i18nOf(map) { return state(map).i18n || mapapp.defaultI18n; }

  /* A translated string with {name} placeholders filled in. */
  function tr(i18n, key, values) {
    var text = i18n[key] !== undefined ? i18n[key] : key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
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

  /* The clauses of a text that state something, without those saying it is unknown
     or absent ("Aucune section … confirmée"): text.affirmed on the server, whose
     words come in the layer's configuration. */
  function affirmed(text, skip) {
    return String(text || "").split(/[.;]\s+|[.;]$/).map(function (c) { return c.trim(); })
      .filter(function (c) {
        var folded = normalise(c);
        return c && !(skip || []).some(function (w) { return folded.indexOf(w) !== -1; });
      }).join(" ; ");
  }

  /* What a search matches for a feature: its name and what its search fields affirm. */
  function searchText(cfg, props, name) {
    var search = cfg.search || {};
    return normalise([name].concat((search.fields || []).map(function (f) {
      return affirmed(props[f], search.skip);
    })).join(" "));
  }

  /* Why a feature matched when its name did not: the label and the affirmed text of
     the first search field holding the query (null when the name holds it). */
  function matchedField(cfg, props, name, q) {
    if (!q || normalise(name).indexOf(q) !== -1) return null;
    var search = cfg.search || {};
    for (var i = 0; i < (search.fields || []).length; i++) {
      var f = search.fields[i], said = affirmed(props[f], search.skip);
      if (said && normalise(said).indexOf(q) !== -1) {
        return { label: cfg.fields[f] ? cfg.fields[f].label : f, text: said };
      }
    }
    return null;
  }

  /* A remembered choice of the visitor (panels open or closed), when storage works. */
  function recall(key) {
    try { return window.localStorage.getItem("mapapp:" + key); } catch (e) { return null; }
  }
  function keep(key, value) {
    try { window.localStorage.setItem("mapapp:" + key, value); } catch (e) { /* private mode */ }
  }

  /* --- symbols: every point layer has its own shape (colour is never the only cue).
     The vertices come with each layer's configuration (mapapp/layers/model.py
     SYMBOLS); a symbol without vertices is a circle. */

  var SHAPES = {};

  function shapePoints(symbol, x, y, r) {
    return SHAPES[symbol].map(function (v) { return [x + v[0] * r, y + v[1] * r]; });
  }

  /* A circle marker drawn as the layer's shape, on SVG and canvas alike. */
  var ShapeMarker = L.CircleMarker.extend({
    options: { symbol: "circle" },
    _updatePath: function () {
      if (SHAPES[this.options.symbol]) this._renderer._updateMapappShape(this);
      else L.CircleMarker.prototype._updatePath.call(this);
    }
  });
  L.SVG.include({
    _updateMapappShape: function (layer) {
      if (layer._empty()) { this._setPath(layer, "M0 0"); return; }
      var pts = shapePoints(layer.options.symbol, layer._point.x, layer._point.y, layer._radius);
      this._setPath(layer, "M" + pts.map(function (p) {
        return p[0].toFixed(1) + " " + p[1].toFixed(1);
      }).join("L") + "Z");
    }
  });
  L.Canvas.include({
    _updateMapappShape: function (layer) {
      if (!this._drawing || layer._empty()) return;
      var ctx = this._ctx;
      var pts = shapePoints(layer.options.symbol, layer._point.x, layer._point.y, layer._radius);
      ctx.beginPath();
      ctx.moveTo(pts[0][0], pts[0][1]);
      for (var i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
      ctx.closePath();
      this._fillStroke(ctx, layer);
    }
  });
  mapapp.ShapeMarker = ShapeMarker;

  /* Clusters are no tab stops either: features are reached by search and the list. */
  if (L.MarkerCluster) {
    L.MarkerCluster.prototype.options = L.extend({}, L.MarkerCluster.prototype.options, { keyboard: false });
  }

  /* A small SVG picture of a symbol, for the legend and the lists. */
  function swatch(symbol, color, polygon, outline) {
    var svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("class", "mapapp-swatch");
    svg.setAttribute("viewBox", "0 0 18 18");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape;
    if (polygon) {
      shape = document.createElementNS(SVGNS, "rect");
      shape.setAttribute("x", "1.5"); shape.setAttribute("y", "3.5");
      shape.setAttribute("width", "15"); shape.setAttribute("height", "11");
    } else if (SHAPES[symbol]) {
      shape = document.createElementNS(SVGNS, "path");
      shape.setAttribute("d", "M" + shapePoints(symbol, 9, 9.6, 6).map(function (p) {
        return p[0].toFixed(1) + " " + p[1].toFixed(1);
      }).join("L") + "Z");
    } else {
      shape = document.createElementNS(SVGNS, "circle");
      shape.setAttribute("cx", "9"); shape.setAttribute("cy", "9"); shape.setAttribute("r", "6.5");
    }
    shape.setAttribute("fill", color || "none");
    shape.setAttribute("stroke", outline ? color : "#1d2530");
    shape.setAttribute("stroke-width", outline ? "2.5" : "1.5");
    if (outline) {  /* perimeters: dashed outlines, as on the map */
      shape.setAttribute("fill-opacity", "0.15");
      shape.setAttribute("stroke-dasharray", "4 2");
    }
    svg.appendChild(shape);
    return svg;
  }
  mapapp.swatch = swatch;

  /* The index of the class holding a value (classes of min <= v < max), or -1. */
  function classIndex(cfg, value) {
    if (typeof value !== "number") return -1;
    for (var i = 0; i < cfg.classes.length; i++) {
      if (value >= cfg.classes[i].min && value < cfg.classes[i].max) return i;
    }
    return value >= cfg.classes[cfg.classes.length - 1].max ? cfg.classes.length - 1 : -1;
  }
  mapapp.classIndex = classIndex;

  function categoryOf(cfg, props) {
    if (cfg.classes) {
      var k = classIndex(cfg, props[cfg.classField]);
      return k === -1 ? null : { value: String(k), label: cfg.classes[k].label, color: cfg.classes[k].color };
    }
    var value = cfg.categoryField ? props[cfg.categoryField] : null;
    for (var j = 0; j < cfg.categories.length; j++) {
      if (cfg.categories[j].value === value) return cfg.categories[j];
    }
    return null;
  }

  function categoryColor(cfg, props) {
    var c = categoryOf(cfg, props);
    return c ? c.color : (cfg.classes ? "#cccccc" : cfg.color);
  }

  /* Options of a point marker: the layer's shape, a dark outline (3:1 on any base map). */
  function pointStyle(cfg, color, draft) {
    var symbol = cfg.symbol || "circle";
    return { symbol: symbol, radius: symbol === "circle" ? 7 : 6.5, weight: draft ? 2.5 : 1.5,
             color: "#1d2530", dashArray: draft ? "3 3" : null, opacity: 1,
             fillColor: color, fillOpacity: draft ? 0.55 : 1 };
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
    box.appendChild(el("h2", "mapapp-popup-title", p[cfg.labelField] || p.id));
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
    reportLink(cfg, p, box);
    return box;
  }
  mapapp.popupContent = popupContent;

  /* Public pages: "report an error" on every card (the form is a page of its own,
     in a new tab from an embed), "suggest a place" on the map. */
  function contributeUrl(c, query) {
    return c.url + "?" + new URLSearchParams(Object.assign({ lang: c.lang }, query)).toString();
  }
  function reportLink(cfg, p, box) {
    var c = mapapp.contribute;
    if (!c || p.id === undefined || p.id === null || c.layers.indexOf(cfg.name) === -1) return;
    var a = el("a", "mapapp-report", c.report);
    a.href = contributeUrl(c, { layer: cfg.name, id: p.id });
    if (c.newTab) { a.target = "_blank"; a.rel = "noopener"; }
    var line = el("p", "mapapp-report-line");
    line.appendChild(a);
    box.appendChild(line);
  }
  function proposeControl(map, c) {
    control(map, "bottomleft", function () {
      var a = el("a", "mapapp-propose leaflet-control", c.propose);
      a.href = contributeUrl(c, {});
      if (c.newTab) { a.target = "_blank"; a.rel = "noopener"; }
      return a;
    });
  }

  /* --- cards: popups drawn as a side panel or a bottom sheet, above the controls --- */

  var cardCount = 0;

  /* Where a card or panel leaves the map visible: the part left or above it. */
  function freeArea(map, box) {
    var size = map.getSize();
    if (!box || !box.offsetParent) return L.bounds([0, 0], [size.x, size.y]);
    var frame = map.getContainer().getBoundingClientRect(), r = box.getBoundingClientRect();
    if (r.width >= size.x - 24) return L.bounds([0, 0], [size.x, Math.max(60, r.top - frame.top)]);
    return L.bounds([0, 0], [Math.max(60, r.left - frame.left), size.y]);
  }

  /* Pan the map so that a point is not hidden under a card or panel. */
  function keepVisible(map, latlng, box) {
    if (!latlng || !map._loaded) return;
    var free = freeArea(map, box), p = map.latLngToContainerPoint(latlng), margin = 36;
    var inside = p.x >= free.min.x + margin && p.x <= free.max.x - margin &&
      p.y >= free.min.y + margin && p.y <= free.max.y - margin;
    if (!inside) map.panBy(p.subtract(free.getCenter()), { animate: false });
  }
  mapapp.keepVisible = keepVisible;

  /* A popup laid out by CSS in the map container (not in the moving map pane). */
  var CardPopup = L.Popup.extend({
    options: { pane: "mapapp-cards", className: "mapapp-card", closeButton: false,
               autoPan: false, maxWidth: 100000, minWidth: 0 },
    _initLayout: function () {
      L.Popup.prototype._initLayout.call(this);
      var box = this._container, self = this;
      var i18n = this._map ? i18nOf(this._map) : mapapp.defaultI18n;
      box.setAttribute("role", "dialog");
      box.id = "mapapp-card-" + (++cardCount);
      var close = el("button", "mapapp-card-close");
      close.type = "button";
      close.setAttribute("aria-label", i18n.closeCard || "×");
      close.title = i18n.closeCard || "";
      close.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
      L.DomEvent.on(close, "click", function (e) { L.DomEvent.stop(e); self.close(); });
      this._wrapper.insertBefore(close, this._contentNode);
      L.DomEvent.on(box, "keydown", function (e) {
        if (e.key === "Escape") { L.DomEvent.stop(e); self.close(); }
      });
      L.DomEvent.disableScrollPropagation(box);
    },
    _updateContent: function () {
      var hadFocus = this._container && this._container.contains(document.activeElement);
      L.Popup.prototype._updateContent.call(this);
      var title = this._contentNode.querySelector("h2");
      if (title) {
        title.id = this._container.id + "-title";
        title.tabIndex = -1;
        this._container.setAttribute("aria-labelledby", title.id);
      }
      if (this._back) this._contentNode.insertBefore(this._back, this._contentNode.firstChild);
      if (this._map) markCovered(this._map);
      /* new content (a badge's list to a card): the focus stays in the card */
      if (hadFocus && title && !this._container.contains(document.activeElement)) {
        title.focus({ preventScroll: true });
      }
    },
    onRemove: function (map) {
      L.Popup.prototype.onRemove.call(this, map);
      /* gone at once, not faded out: a closed card never covers the next one */
      clearTimeout(this._removeTimeout);
      L.DomUtil.remove(this._container);
    },
    _updateLayout: function () {},
    _updatePosition: function () {},
    _animateZoom: function () {},
    _adjustPan: function () { keepVisible(this._map, this._latlng, this._container); }
  });
  mapapp.CardPopup = CardPopup;

  function card(source) { return new CardPopup({}, source); }

  /* The controls an open card or panel covers are hidden (out of the Tab order too):
     a keyboard never lands on a button no one can see. Checked again when a card
     opens, closes or grows, when a panel opens or closes, and when the map resizes. */
  var FOCUSABLE = "a[href], button, input, select, textarea, summary";
  function markCovered(map, closing) {
    var container = map.getContainer();
    var covers = Array.prototype.filter.call(container.querySelectorAll(".mapapp-card, .mapapp-panel"),
      function (c) { return c !== closing && c.offsetParent !== null; })
      .map(function (c) { return c.getBoundingClientRect(); });
    Array.prototype.forEach.call(map._controlContainer.querySelectorAll(FOCUSABLE), function (node) {
      node.classList.remove("mapapp-covered");
      var r = node.getBoundingClientRect();
      var under = r.width > 0 && covers.some(function (c) {
        return r.left < c.right && c.left < r.right && r.top < c.bottom && c.top < r.bottom;
      });
      if (under) node.classList.add("mapapp-covered");
    });
  }
  mapapp.markCovered = markCovered;

  /* Focus goes into an opened card and back where it came from when it closes. */
  function cardFocus(map) {
    var container = map.getContainer();
    function covered(open, closing) {  /* the panel hides under an open card (map.css) */
      container.classList.toggle("mapapp-card-open", open);
      var p = state(map).panel;
      if (p) syncButtons(p);
      markCovered(map, closing);
    }
    map.on("resize", function () { markCovered(map); });
    map.on("popupopen", function (e) {
      if (!(e.popup instanceof CardPopup)) return;
      covered(true);
      var active = document.activeElement;
      var box = e.popup.getElement();
      if (!e.popup._returnFocus) {
        e.popup._returnFocus = active && active !== document.body && !box.contains(active) ? active : null;
      }
      var title = box.querySelector("h2");
      /* a card the page opens by itself (a link's feature) never takes the focus */
      if (title && !e.popup._quiet) title.focus({ preventScroll: true });
      e.popup._quiet = false;
    });
    map.on("popupclose", function (e) {
      if (!(e.popup instanceof CardPopup)) return;
      var closing = e.popup.getElement();  /* still in the page while it closes */
      covered(Array.prototype.some.call(container.querySelectorAll(".mapapp-card"),
                                        function (c) { return c !== closing; }), closing);
      var target = e.popup._returnFocus;
      e.popup._returnFocus = null;
      var panel = state(map).panel;
      if (target && !document.body.contains(target) && target.dataset && target.dataset.key && panel) {
        /* the data browser redrew its list meanwhile: the same item, new button */
        target = panel.panel.querySelector('[data-key="' + CSS.escape(target.dataset.key) + '"]');
      }
      var active = document.activeElement;
      var lost = !active || active === document.body || e.popup.getElement().contains(active);
      if (lost && target && document.body.contains(target)) target.focus({ preventScroll: true });
      else if (lost) map.getContainer().focus({ preventScroll: true });
    });
  }

  /* Open a card for a layer (bound popup) and send focus back to ``from`` on close. */
  function openCard(layer, from, back, quiet) {
    var popup = layer.getPopup();
    if (popup) {
      popup._returnFocus = from || null;
      popup._back = back || null;
      popup._quiet = !!quiet;
    }
    layer.openPopup();
  }

  /* Open the card of a feature of the search or the list (see openEntryFeature). */
  function openEntryFeature(map, entry, f, from, back, quiet) {
    reveal(map, entry.group, f.layer, function () {
      /* a feature located at commune level: its own card, on its commune's badge */
      if (f.props && f.layer.getPopup()) {
        f.layer.getPopup().setContent(popupContent(entry.cfg, { properties: f.props },
                                                   i18nOf(map)));
      }
      openCard(f.layer, from, back, quiet);
    });
  }

  /* A "back to the list" button for a card opened from the data browser; ``view``
     the map's view when the card was opened: the list comes back as it was, not
     shrunk to the feature the card zoomed to. */
  function backButton(map, item, view) {
    var b = el("button", "mapapp-back", i18nOf(map).backToList);
    b.type = "button";
    function back() {
      if (view) map.setView(view.center, view.zoom, { animate: false });
      var target = typeof item === "function" ? item() : item;
      if (target) target.focus();
    }
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      map.closePopup();
      /* a zoom still under way to the feature would land after the view restored */
      if (map._animatingZoom) map.once("zoomend", function () { setTimeout(back, 0); });
      else back();
    });
    return b;
  }

  /* --- layers ------------------------------------------------------------------- */

  /* Leaflet listens to a shape's focus to show its tooltip, and Chromium then puts
     every SVG shape in the Tab order (dozens of unnamed stops before the page goes
     on). Shapes are reached by the search and the list instead: out of the Tab
     order, still focusable by script. */
  function untabbable(layer) {
    function drop() {
      var node = layer.getElement && layer.getElement();
      if (node) node.setAttribute("tabindex", "-1");
    }
    layer.on("add", drop);
    drop();
  }
  mapapp.untabbable = untabbable;

  function communeCountText(i18n, n) {
    return n + " " + (n === 1 ? i18n.communeCountOne || i18n.communeCount : i18n.communeCount);
  }

  /* A commune badge of a layer: its count, in the layer's colour, named for
     screen readers and tooltips; badges of several layers at one commune stand side
     by side (a slot each), never one over another. */
  function badgeMarker(map, cfg, lng, lat, n) {
    var s = state(map), i18n = s.i18n || mapapp.defaultI18n;
    var key = lng.toFixed(5) + "," + lat.toFixed(5);
    s.badgeSlots = s.badgeSlots || {};
    var slots = s.badgeSlots[key] = s.badgeSlots[key] || [];
    if (slots.indexOf(cfg.name) === -1) slots.push(cfg.name);
    var slot = slots.indexOf(cfg.name);
    var badge = el("span", "mapapp-commune-badge", String(n));
    badge.style.borderColor = cfg.color;
    return L.marker([lat, lng], {
      icon: L.divIcon({ html: badge, className: "mapapp-commune-icon", iconSize: [28, 28],
                        iconAnchor: [14 - slot * 32, 14] }),
      /* no tab stop: the search and the list reach these features by keyboard */
      keyboard: false, title: communeCountText(i18n, n) + " – " + cfg.title
    });
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
      var marker = badgeMarker(map, entry.cfg, c[0], c[1], list.length);
      var listed = function () {
        var i18n = state(map).i18n || mapapp.defaultI18n;
        var box = el("div", "mapapp-popup mapapp-commune-list");
        box.appendChild(el("h2", "mapapp-popup-title", entry.cfg.title));
        box.appendChild(el("p", "mapapp-flags", communeCountText(i18n, list.length)));
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
      };
      marker.bindPopup(card(marker).setContent(listed));
      /* the badge lists its features again next time, not the last card shown */
      marker.on("popupclose", function () { marker.getPopup().setContent(listed); });
      list.forEach(function (f) {
        var name = f.properties[entry.cfg.labelField] || f.id;
        entry.features.push({ id: f.properties.id, name: name, key: normalise(name), layer: marker,
                              props: f.properties, text: searchText(entry.cfg, f.properties, name) });
      });
      made.push(marker);
    });
    return made;
  }

  /* The commune badges of a large layer: the payload gives each commune's count;
     opening a badge asks the OGC API for the features located at that commune's
     level only, and lists them (each name shows its card). */
  function remoteCommuneBadges(map, entry, communes) {
    var cfg = entry.cfg, options = state(map).options || {};
    var items = options.browse && options.browse.items;
    return communes.map(function (c) {
      var code = c[0], n = c[3];
      var i18n = state(map).i18n || mapapp.defaultI18n;
      var marker = badgeMarker(map, cfg, c[1], c[2], n);
      /* the server's list of a large layer opens these features on their badge */
      if (code) (entry.badges = entry.badges || {})[code] = { marker: marker, lng: c[1], lat: c[2] };
      var box = el("div", "mapapp-popup mapapp-commune-list");
      box.appendChild(el("h2", "mapapp-popup-title", cfg.title));
      box.appendChild(el("p", "mapapp-flags", communeCountText(i18n, n)));
      var ul = el("ul");
      box.appendChild(ul);
      var popup = card(marker).setContent(box);
      marker.bindPopup(popup);
      marker.on("popupopen", function () {
        if (ul.childNodes.length || !items || !code) return;
        var filter = "precision = 'commune' AND commune_code = '" + code + "'";
        fetchJSON(items.replace("{name}", cfg.name) + "?limit=100&filter=" +
                  encodeURIComponent(filter)).then(function (page) {
          (page.features || []).forEach(function (f) {
            var b = el("button", "mapapp-link-button", f.properties[cfg.labelField] || f.id);
            b.type = "button";
            L.DomEvent.on(b, "click", function (e) {
              L.DomEvent.stop(e);
              marker.setPopupContent(popupContent(cfg, f, state(map).i18n || mapapp.defaultI18n));
            });
            var li = el("li");
            li.appendChild(b);
            ul.appendChild(li);
          });
        }).catch(function () { mapapp.announce(map, i18n.loadError + " " + cfg.title); });
      });
      /* the badge lists its features again next time, not the last card shown */
      marker.on("popupclose", function () { marker.setPopupContent(box); });
      return marker;
    });
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
        return new ShapeMarker(latlng, pointStyle(cfg, cfg.color, false));
      },
      style: function (feature) {
        var p = feature.properties || {};
        var fill = categoryColor(cfg, p);
        var draft = p.published === false;  /* planners see unpublished items dashed */
        if (cfg.geometry === "Point") return pointStyle(cfg, fill, draft);
        return { color: cfg.classes ? "#4a5563" : fill, weight: cfg.classes ? 1 : 3,
                 dashArray: draft ? "6 4" : (cfg.classes ? null : "8 5"),
                 fillColor: fill, fillOpacity: cfg.classes ? 0.55 : 0.12 };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        var label = p[cfg.labelField] || p.id;
        layer.feature = feature;
        layer.bindTooltip(el("span", null, label), { direction: "top", sticky: cfg.geometry !== "Point" });
        untabbable(layer);
        layer.bindPopup(card(layer).setContent(function () {
          return popupContent(cfg, layer.feature, i18nOf(map));
        }));
        layer.on("popupopen", function () {
          mapapp.remember(map, cfg.name, p.id);
          map.fire("mapapp:featureopen", { layerName: cfg.name, id: p.id, layer: layer,
                                           feature: layer.feature });
        });
        layer.on("popupclose", function () { mapapp.remember(map, null, null); });
        entry.features.push({ id: p.id, name: label, key: normalise(label), layer: layer,
                              text: searchText(cfg, p, label) });
      }
    });
    var made = geo.getLayers().concat(communeBadges(map, entry, atCommune));
    if (entry.group.addLayers) entry.group.addLayers(made);
    else made.forEach(function (l) { entry.group.addLayer(l); });
    entry.count = entry.features.length;
    return made;
  }

  function layerDone(map, entry) {
    entry.loaded = true;
    var s = state(map);
    s.pending -= 1;
    if (s.pending === 0) s.ready.splice(0).forEach(function (fn) { fn(); });
    map.fire("mapapp:layerloaded", { name: entry.cfg.name, count: entry.count });
  }

  function drawLayer(map, entry, data) {
    makeLayers(map, entry, data);
    layerDone(map, entry);
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
  mapapp.setFilter = function (map, layerName, keepIt) {
    var entry = state(map).layers[layerName];
    if (!entry || entry.remoteLayer) return;
    var show = [], hide = [], badges = [];
    entry.features.forEach(function (f) {
      var props = f.props || (f.layer.feature ? f.layer.feature.properties || {} : {});
      var ok = !keepIt || keepIt(props);
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
    map.fire("mapapp:filter", { name: layerName });
  };

  mapapp.layerEntry = function (map, layerName) { return state(map).layers[layerName]; };

  mapapp.findFeature = function (map, layerName, id) {
    var entry = state(map).layers[layerName];
    return entry.features.filter(function (f) { return String(f.id) === String(id); })[0];
  };

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }
  mapapp.fetchJSON = fetchJSON;

  /* --- large point layers: one canvas, points grouped on the fly ------------------ */

  /* The compact payload as bytes (maps/compact.py): header, varint deltas, categories;
     a tile's (PointTiles.tile) then gives each point's position in the layer. */
  function decodePoints(buffer) {
    var bytes = new Uint8Array(buffer);
    var view = new DataView(buffer);
    if (String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== "MPTS") throw new Error("format");
    var length = view.getUint32(4, true);
    var head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    var n = head.count, pos = 8 + length;
    function deltas(out, scale) {
      var acc = 0;
      for (var i = 0; i < n; i++) {
        var shift = 0, z = 0, b;
        do { b = bytes[pos++]; z += (b & 0x7f) * Math.pow(2, shift); shift += 7; } while (b & 0x80);
        acc += (z % 2) ? -(z + 1) / 2 : z / 2;
        out[i] = acc / scale;
      }
      return out;
    }
    var lngs = deltas(new Float64Array(n), head.scale), lats = deltas(new Float64Array(n), head.scale);
    var codes = bytes.subarray(pos, pos + n);
    pos += n;
    var index = head.tile ? deltas(new Int32Array(n), 1) : null;
    return { count: n, lngs: lngs, lats: lats, codes: codes, index: index, tile: head.tile || null,
             categories: head.categories, located: located(head), communes: head.communes || [] };
  }

  /* How many points of a compact payload are located (the commune-level ones, last,
     are drawn as commune badges). */
  function located(head) { return head.located === undefined ? head.count : head.located; }

  /* One point of a large layer: what the search, the permalink and reveal() need. */
  function RemotePoint(layer, i) { this._layer = layer; this._mapappIndex = i; }
  RemotePoint.prototype.getLatLng = function () {
    return L.latLng(this._layer.lats[this._mapappIndex], this._layer.lngs[this._mapappIndex]);
  };

  /* A point of a large layer known by its place alone (its tile may not be loaded):
     what reveal() and openRemote() need. */
  function LonePoint(latlng, index) { this._latlng = latlng; this._mapappIndex = index; }
  LonePoint.prototype.getLatLng = function () { return this._latlng; };

  /* Points projected once (Web Mercator pixels at zoom 0), with what each carries:
     its category code, its weight (an overview cell's count) and its position in
     the layer (a tile's points). */
  function pointChunk(data) {
    var n = data.count, x = new Float64Array(n), y = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var s = Math.sin(data.lats[i] * Math.PI / 180);
      x[i] = 256 * (0.5 + data.lngs[i] / 360);
      y[i] = 256 * (0.5 - 0.25 * Math.log((1 + s) / (1 - s)) / Math.PI);
    }
    return { count: n, located: data.located === undefined ? n : data.located, x0: x, y0: y,
             lngs: data.lngs, lats: data.lats, codes: data.codes,
             weights: data.weights || null, index: data.index || null };
  }

  /* Every point of a large layer drawn on one canvas. Points are projected once per
     zoom level and grouped in a grid of CELL pixels: a cell holding several points is
     drawn as a circle with their count (a click zooms in), a lone point with its
     layer's shape and category colour (a click opens its card).

     The points come in chunks: the whole layer at once, or one chunk per tile
     (addChunk). A layer shown as an overview draws its grid cells (``cells``,
     weighted by their counts) below ``overviewZoom`` (every zoom when null), its
     chunks from there on, once the cells in view count at most ``pointsInView``
     points (always from ``pointsZoom``). While it draws the cells, the biggest ones in view are
     also buttons (KEYS of them, named by ``cellLabel``): Tab reaches them, Enter or
     Space zooms in, as a click on their circle does. */
  var CELL = 44, ALL_AT = 18, KEYS = 8;
  var PointsLayer = L.Layer.extend({
    initialize: function (cfg, data, styles) {
      this.cfg = cfg;
      this.lngs = data.lngs;
      this.lats = data.lats;
      this.codes = data.codes;
      this.count = data.count;
      this.located = data.located === undefined ? data.count : data.located;
      /* an overview: each "point" is a grid cell weighing its count of points */
      this.cells = data.weights ? pointChunk(data) : null;
      this.chunks = data.weights ? [] : [pointChunk(data)];
      this.overviewZoom = null;
      this.pointsInView = Infinity;
      this.pointsZoom = Infinity;
      this.cellSize = 0.01;
      this.overview = !!data.weights;
      this.badges = L.layerGroup();
      this.styles = styles;
      this.items = [];
    },
    addChunk: function (data) {
      this.chunks.push(pointChunk(data));
      if (this._map && !this._frame) {  /* tiles arriving together: one redraw */
        this._frame = L.Util.requestAnimFrame(function () { this._frame = null; this._redraw(); }, this);
      }
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "mapapp-points leaflet-zoom-hide");
      this._canvas.setAttribute("aria-hidden", "true");
      map.getPane("overlayPane").appendChild(this._canvas);
      this._keys = L.DomUtil.create("div", "mapapp-cell-keys leaflet-zoom-hide", map.getPane("overlayPane"));
      map.on("moveend resize", this._redraw, this);
      map.on("click", this._click, this);
      map.on("mousemove", this._hover, this);
      this.badges.addTo(map);
      this._redraw();
    },
    onRemove: function (map) {
      map.removeLayer(this.badges);
      L.DomUtil.remove(this._canvas);
      L.DomUtil.remove(this._keys);
      map.off("moveend resize", this._redraw, this);
      map.off("click", this._click, this);
      map.off("mousemove", this._hover, this);
      map.getContainer().classList.remove("mapapp-pointer");
    },
    _redraw: function () {
      var map = this._map;
      if (!map) return;
      var size = map.getSize(), ratio = window.devicePixelRatio || 1, canvas = this._canvas;
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var zoom = map.getZoom();
      this.overview = !!this.cells && (this.overviewZoom === null || zoom < this.overviewZoom
        || (zoom < this.pointsZoom && this._countInView(map) > this.pointsInView));
      this._drawn = this.overview ? [this.cells] : this.chunks;
      this.items = this._group(map, size);
      this._paint(ctx);
      this._drawKeys(map, size);
      this.fire("redraw");
    },
    /* The points in view, by the overview's counts: each cell (a square of
       ``cellSize`` degrees holding its drawn position) counts for the share of
       its area in view, as if its points were spread evenly. */
    _countInView: function (map) {
      var b = map.getBounds(), c = this.cells, d = this.cellSize, n = 0;
      var w = b.getWest(), e = b.getEast(), s = b.getSouth(), nn = b.getNorth();
      for (var i = 0; i < c.count; i++) {
        var x0 = Math.floor(c.lngs[i] / d) * d, y0 = Math.floor(c.lats[i] / d) * d;
        var dx = Math.min(e, x0 + d) - Math.max(w, x0), dy = Math.min(nn, y0 + d) - Math.max(s, y0);
        if (dx > 0 && dy > 0) n += c.weights[i] * (dx / d) * (dy / d);
      }
      return n;
    },
    /* Group the points in view by cell (every point alone from zoom ALL_AT on). */
    _group: function (map, size) {
      var k = Math.pow(2, map.getZoom()), origin = map.getPixelBounds().min;
      var cols = Math.ceil(size.x / CELL) + 2, rows = Math.ceil(size.y / CELL) + 2;
      var counts = new Float64Array(cols * rows), first = new Int32Array(cols * rows);
      var from = new Int32Array(cols * rows);
      var sx = new Float64Array(cols * rows), sy = new Float64Array(cols * rows);
      var items = [], single = !this.overview && map.getZoom() >= ALL_AT, m = 12;
      this._drawn.forEach(function (chunk, ci) {
        var weights = chunk.weights;
        for (var i = 0; i < chunk.located; i++) {  /* commune-level ones: badges */
          var px = chunk.x0[i] * k - origin.x, py = chunk.y0[i] * k - origin.y;
          if (px < -m || py < -m || px > size.x + m || py > size.y + m) continue;
          if (single) { items.push({ x: px, y: py, n: 1, i: i, c: ci }); continue; }
          var c = (Math.floor(py / CELL) + 1) * cols + Math.floor(px / CELL) + 1;
          var w = weights ? weights[i] : 1;
          if (!counts[c]) { first[c] = i; from[c] = ci; }
          counts[c] += w;
          sx[c] += px * w;
          sy[c] += py * w;
        }
      });
      if (!single) {
        for (var j = 0; j < counts.length; j++) {
          if (!counts[j]) continue;
          items.push({ x: sx[j] / counts[j], y: sy[j] / counts[j], n: counts[j], i: first[j], c: from[j] });
        }
      }
      return items;
    },
    _paint: function (ctx) {
      var self = this;
      ctx.lineWidth = 1.5;
      this.items.forEach(function (it) {
        if (it.n === 1 && !self.overview) {
          var st = self.styles[self._drawn[it.c].codes[it.i]] || self.styles.fallback;
          ctx.beginPath();
          if (SHAPES[st.symbol]) {
            var pts = shapePoints(st.symbol, it.x, it.y, st.radius);
            ctx.moveTo(pts[0][0], pts[0][1]);
            for (var p = 1; p < pts.length; p++) ctx.lineTo(pts[p][0], pts[p][1]);
            ctx.closePath();
          } else {
            ctx.arc(it.x, it.y, st.radius, 0, 2 * Math.PI);
          }
          ctx.fillStyle = st.fillColor;
          ctx.strokeStyle = st.color;
          ctx.fill();
          ctx.stroke();
          return;
        }
        var r = it.n < 10 ? 14 : it.n < 100 ? 17 : it.n < 1000 ? 20 : 23;
        it.r = r;
        ctx.beginPath();
        ctx.arc(it.x, it.y, r, 0, 2 * Math.PI);
        ctx.fillStyle = "#ffffff";
        ctx.strokeStyle = "#1d2530";
        ctx.lineWidth = 3;
        ctx.fill();
        ctx.stroke();
        ctx.lineWidth = 1.5;
        ctx.fillStyle = "#1d2530";
        ctx.font = "700 12px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(it.n >= 10000 ? Math.round(it.n / 1000) + "k" : String(it.n), it.x, it.y + 0.5);
      });
    },
    /* The overview's biggest circles in view as buttons over them: out of the
       pointer's way (the canvas takes clicks), in the Tab order after the controls.
       Drawn again, the focus stays at the same rank; after a zoom one of them
       asked for, it goes to the first new one (or the map, once the points are
       drawn). */
    _drawKeys: function (map, size) {
      var box = this._keys, self = this, active = document.activeElement;
      var rank = Array.prototype.indexOf.call(box.childNodes, active);
      var refocus = this._refocus || rank !== -1;
      if (this._refocus) rank = 0;
      this._refocus = false;
      box.textContent = "";
      L.DomUtil.setPosition(box, map.containerPointToLayerPoint([0, 0]));
      if (this.overview && this.cellLabel) {
        this.items.filter(function (it) {
          return it.x >= 0 && it.y >= 0 && it.x <= size.x && it.y <= size.y;
        }).sort(function (a, b) { return b.n - a.n; }).slice(0, KEYS).forEach(function (it) {
          var b = el("button", "mapapp-cell-key");
          b.type = "button";
          b.setAttribute("aria-label", self.cellLabel(it));
          var r = it.r || 14;
          b.style.left = (it.x - r) + "px";
          b.style.top = (it.y - r) + "px";
          b.style.width = b.style.height = (2 * r) + "px";
          L.DomEvent.on(b, "click", function (e) {
            L.DomEvent.stop(e);
            self._refocus = true;
            self.fire("keyzoom", { n: it.n });  /* said: the view changes out of sight */
            self._zoomIn(it);
          });
          box.appendChild(b);
        });
      }
      var keys = box.childNodes;
      if (refocus) (keys[Math.min(rank, keys.length - 1)] || map.getContainer()).focus({ preventScroll: true });
    },
    _zoomIn: function (it) {
      this._map.setView(this._map.containerPointToLatLng([it.x, it.y]),
                        Math.min(this._map.getZoom() + 2, ALL_AT));
    },
    /* The drawn item under a container point, or null. */
    _at: function (point) {
      var best = null, bestD = Infinity;
      this.items.forEach(function (it) {
        var d = Math.sqrt(Math.pow(it.x - point.x, 2) + Math.pow(it.y - point.y, 2));
        if (d <= (it.r || 9) + 4 && d < bestD) { best = it; bestD = d; }
      });
      return best;
    },
    _click: function (e) {
      var it = this._at(e.containerPoint);
      if (!it) return;
      if (it.n > 1 || this.overview) {
        this._zoomIn(it);
      } else {
        var chunk = this._drawn[it.c];
        this.fire("pointclick", { index: chunk.index ? chunk.index[it.i] : it.i,
                                  latlng: L.latLng(chunk.lats[it.i], chunk.lngs[it.i]) });
      }
    },
    _hover: function (e) {
      this._map.getContainer().classList.toggle("mapapp-pointer", !!this._at(e.containerPoint));
    }
  });
  mapapp.PointsLayer = PointsLayer;

  /* A large layer: compact arrays drawn on one canvas; cards fetched on demand. */
  function drawRemote(map, entry, data) {
    showRemote(map, entry, data);
    layerDone(map, entry);
  }

  /* The canvas style of each category of a large layer (by its code: index + 1). */
  function remoteStyles(cfg, categories) {
    var styles = { fallback: pointStyle(cfg, cfg.color, false) };
    categories.forEach(function (value, k) {
      var cat = cfg.categories.filter(function (c) { return c.value === value; })[0];
      styles[k + 1] = pointStyle(cfg, cat ? cat.color : cfg.color, false);
    });
    return styles;
  }

  function showRemote(map, entry, data) {
    var cfg = entry.cfg;
    var visible = map.hasLayer(entry.group);
    if (visible) map.removeLayer(entry.group);
    var layer = new PointsLayer(cfg, data, remoteStyles(cfg, data.categories));
    remoteCommuneBadges(map, entry, data.communes).forEach(function (b) { layer.badges.addLayer(b); });
    var markers = new Array(data.count);
    for (var i = 0; i < data.count; i++) markers[i] = new RemotePoint(layer, i);
    entry.group = layer;
    entry.markers = markers;
    entry.categoryValues = data.categories;
    layer.on("pointclick", function (e) { mapapp.openRemote(map, entry, markers[e.index]); });
    entry.overview = false;
    if (visible) layer.addTo(map);
    entry.count = data.count;
  }

  /* Where an overview circle lies, in words: at the centre of the view, or how far
     and in which of eight directions from it. */
  function whereInView(map, i18n, it) {
    var size = map.getSize(), dx = it.x - size.x / 2, dy = it.y - size.y / 2;
    if (dx * dx + dy * dy < CELL * CELL / 4) return i18n.viewCentre;  /* one circle at most */
    var centre = map.getCenter(), at = map.containerPointToLatLng([it.x, it.y]);
    var sector = Math.round(Math.atan2(dx, -dy) / (Math.PI / 4));  /* 0: north, 2: east */
    var direction = i18n.directions[["n", "ne", "e", "se", "s", "sw", "w", "nw", "n"][(sector + 8) % 8]];
    return tr(i18n, "fromViewCentre", { distance: formatDistance(centre.distanceTo(at), i18n),
                                        direction: direction });
  }

  /* A very large layer opens as an overview: its points counted per grid cell
     (maps/compact.py: overview_cells), drawn as count circles, the biggest of them
     buttons too. From the zoom level the server names, the points of the tiles in
     view are loaded (``remote.tiles``) and drawn instead, tile by tile; zoomed out
     again, the overview comes back. A server without tiles (or a browser without a
     binary decoder) gets every point loaded at that zoom level instead. */
  function drawOverview(map, entry, data) {
    var cfg = entry.cfg, i18n = i18nOf(map), n = data.cells.length;
    var lngs = new Float64Array(n), lats = new Float64Array(n), weights = new Float64Array(n);
    data.cells.forEach(function (c, i) { lngs[i] = c[0]; lats[i] = c[1]; weights[i] = c[2]; });
    var layer = new PointsLayer(cfg, { count: n, located: n, lngs: lngs, lats: lats,
                                       codes: new Uint8Array(n), weights: weights },
                                remoteStyles(cfg, data.categories));
    var zoom = cfg.remote.overviewZoom || 13;
    entry.tiled = !!(cfg.remote.tiles && window.TextDecoder);
    if (entry.tiled) {
      layer.overviewZoom = zoom;
      layer.pointsInView = cfg.remote.pointsInView || Infinity;
      layer.pointsZoom = cfg.remote.tileZooms[1];
      layer.cellSize = cfg.remote.overviewCell || layer.cellSize;
    }
    layer.cellLabel = function (it) {
      return tr(i18n, "cellLabel", { n: it.n.toLocaleString(i18n.locale), title: cfg.title,
                                     where: whereInView(map, i18n, it) });
    };
    var tiles = entry.tiled ? tileLoader(map, entry, layer, data.count) : null;
    layer.on("redraw", function () {
      var canvas = layer._canvas;
      entry.overview = layer.overview;
      if (!layer.overview) {  /* points: reached by the search and the list */
        canvas.setAttribute("aria-hidden", "true");
        canvas.removeAttribute("role");
        canvas.removeAttribute("aria-label");
        if (tiles) tiles();
        return;
      }
      /* the counts, for screen readers */
      var shown = layer.items.reduce(function (t, it) { return t + it.n; }, 0);
      canvas.removeAttribute("aria-hidden");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", tr(i18n, "overviewLabel",
        { title: cfg.title, n: shown.toLocaleString(i18n.locale), groups: layer.items.length }));
    });
    layer.on("keyzoom", function (e) {
      mapapp.announce(map, tr(i18n, "cellZoomed", { n: e.n.toLocaleString(i18n.locale), title: cfg.title }));
    });
    layer.on("pointclick", function (e) { mapapp.openRemote(map, entry, new LonePoint(e.latlng, e.index)); });
    remoteCommuneBadges(map, entry, data.communes || []).forEach(function (b) { layer.badges.addLayer(b); });
    var visible = map.hasLayer(entry.group);
    if (visible) map.removeLayer(entry.group);
    entry.group = layer;
    entry.overview = true;
    entry.markers = null;
    entry.categoryValues = data.categories;
    entry.count = data.count;
    if (visible) layer.addTo(map);
    function check() {
      if (entry.overview && map.getZoom() >= zoom && map.hasLayer(entry.group)) mapapp.loadPoints(map, entry);
    }
    if (!entry.tiled) map.on("zoomend overlayadd", check);
    layerDone(map, entry);
    if (!entry.tiled) check();
  }

  /* The tiles of a layer shown as an overview, asked as the map shows them (from
     its overview zoom on): those of the map's zoom level (within the server's
     ``tileZooms``) in view, nearest the centre first, TILES_AT_ONCE at a time. A
     tile loaded is kept, and one whose points a loaded tile of another level
     already holds is not asked (a point arriving twice is drawn once: each has its
     position in the layer); one gone out of view before its turn is not asked; one
     that failed is asked again when the map next moves. Returns what to call when
     the view changes. */
  var TILES_AT_ONCE = 4;
  function tileLoader(map, entry, layer, count) {
    var remote = entry.cfg.remote, levels = remote.tileZooms;
    var known = entry.tileStates = {}, queue = [], busy = 0;
    var have = new Uint8Array(count);  /* the points drawn, by their position */
    function held(z, x, y) {  /* by this tile, an ancestor or all its descendants */
      for (var a = levels[0]; a <= z; a++) {
        if (known[a + "/" + (x >> (z - a)) + "/" + (y >> (z - a))]) return true;
      }
      if (z >= levels[1]) return false;
      for (var k = 0; k < 4; k++) {
        if (!held(z + 1, 2 * x + (k & 1), 2 * y + (k >> 1))) return false;
      }
      return true;
    }
    function inView() {
      var z = Math.max(levels[0], Math.min(levels[1], Math.round(map.getZoom())));
      var b = map.getPixelBounds(), f = Math.pow(2, z - map.getZoom()) / 256, m = 12, out = [];
      var last = Math.pow(2, z) - 1, centre = b.getCenter().multiplyBy(f);
      for (var x = Math.max(0, Math.floor((b.min.x - m) * f)); x <= Math.min(last, Math.floor((b.max.x + m) * f)); x++) {
        for (var y = Math.max(0, Math.floor((b.min.y - m) * f)); y <= Math.min(last, Math.floor((b.max.y + m) * f)); y++) {
          if (!held(z, x, y)) {
            out.push({ z: z, x: x, y: y, d: Math.pow(x + 0.5 - centre.x, 2) + Math.pow(y + 0.5 - centre.y, 2) });
          }
        }
      }
      return out.sort(function (a, c) { return a.d - c.d; });
    }
    /* The points of a tile not drawn yet. */
    function fresh(data) {
      var keep = [];
      for (var i = 0; i < data.count; i++) {
        if (!have[data.index[i]]) { have[data.index[i]] = 1; keep.push(i); }
      }
      if (keep.length === data.count) return data;
      function pick(a) { var out = new a.constructor(keep.length); keep.forEach(function (i, j) { out[j] = a[i]; }); return out; }
      return { count: keep.length, located: keep.length, lngs: pick(data.lngs), lats: pick(data.lats),
               codes: pick(data.codes), index: pick(data.index) };
    }
    function load(t) {
      var key = t.z + "/" + t.x + "/" + t.y;
      busy += 1;
      known[key] = "loading";
      fetch(remote.tiles.replace("{z}", t.z).replace("{x}", t.x).replace("{y}", t.y),
            { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.arrayBuffer();
        })
        .then(decodePoints)
        .then(function (data) {
          known[key] = "loaded";
          var points = fresh(data);
          if (points.count) layer.addChunk(points);
          map.fire("mapapp:tileloaded", { name: entry.cfg.name, tile: key, count: data.count });
        }, function () {
          delete known[key];
          mapapp.announce(map, i18nOf(map).loadError + " " + entry.cfg.title);
        })
        .then(function () { busy -= 1; pump(); });
    }
    function pump() {
      while (busy < TILES_AT_ONCE && queue.length) {
        var t = queue.shift();
        if (!held(t.z, t.x, t.y)) load(t);
      }
    }
    return function () {
      if (layer.overview || !map.hasLayer(layer)) return;
      queue = inView();
      pump();
    };
  }

  /* The points of a layer shown as an overview, loaded once (a promise). */
  mapapp.loadPoints = function (map, entry) {
    if (!entry.overview) return Promise.resolve(entry);
    if (!entry.pointsLoading) {
      entry.pointsLoading = loadPoints(entry.cfg.remote).then(function (data) {
        showRemote(map, entry, data);
        return entry;
      }).catch(function (err) {
        entry.pointsLoading = null;
        mapapp.announce(map, i18nOf(map).loadError + " " + entry.cfg.title);
        throw err;
      });
    }
    return entry.pointsLoading;
  };

  /* The marker of point ``index`` of a large layer, for reveal() and openRemote()
     (a promise; null when it has no place): its point when every point is loaded;
     for a layer loaded by tiles, a lone point at ``latlng`` (a search hit's, an
     answer line's) or at the place its card gives (the tiles of that view load as
     reveal() goes there); else once every point is loaded. */
  function remotePoint(map, entry, index, latlng) {
    if (entry.markers) return Promise.resolve(entry.markers[index] || null);
    if (!entry.tiled) {
      return mapapp.loadPoints(map, entry).then(function () { return entry.markers[index] || null; });
    }
    if (latlng) return Promise.resolve(new LonePoint(latlng, index));
    return fetchJSON(entry.cfg.remote.item.replace("{index}", String(index))).then(function (feature) {
      var c = feature.geometry && feature.geometry.coordinates;
      return c ? new LonePoint(L.latLng(c[1], c[0]), index) : null;
    });
  }

  /* reveal() then openRemote() of point ``index`` of a large layer. */
  function openRemoteAt(map, entry, index, latlng, from, back, quiet) {
    remotePoint(map, entry, index, latlng).then(function (marker) {
      if (!marker) return;
      reveal(map, entry.group, marker, function () {
        mapapp.openRemote(map, entry, marker, from, back, quiet);
      });
    }, function () {});
  }

  /* The compact arrays of a large layer: bytes when the server offers them. */
  function loadPoints(remote) {
    if (!remote.binary || !window.TextDecoder) {
      return fetchJSON(remote.points).then(function (data) {
        var n = data.count, lngs = new Float64Array(n), lats = new Float64Array(n);
        var codes = new Uint8Array(n), x = 0, y = 0;
        for (var i = 0; i < n; i++) {
          x += data.dx[i]; y += data.dy[i];
          lngs[i] = x / data.scale; lats[i] = y / data.scale; codes[i] = data.c[i] + 1;
        }
        return { count: n, lngs: lngs, lats: lats, codes: codes, categories: data.categories,
                 located: located(data), communes: data.communes || [] };
      });
    }
    return fetch(remote.binary, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.arrayBuffer();
    }).then(decodePoints);
  }

  /* Bring a layer out of its cluster (zooming in, spiderfying coincident points),
     then call done. markercluster's zoomToShowLayer only works for icon markers. */
  function reveal(map, group, layer, done) {
    if (!map.hasLayer(group)) group.addTo(map);
    if (group instanceof PointsLayer) {  /* every point is drawn alone from ALL_AT */
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), ALL_AT), { animate: false });
      done();
      return;
    }
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

  /* Fetch one feature of a large layer and open its card at its place. */
  mapapp.openRemote = function (map, entry, marker, from, back, quiet) {
    var i18n = i18nOf(map);
    var url = entry.cfg.remote.item.replace("{index}", String(marker._mapappIndex));
    return fetchJSON(url).then(function (feature) {
      var popup = card(null).setLatLng(marker.getLatLng())
        .setContent(popupContent(entry.cfg, feature, i18n));
      popup._returnFocus = from || null;
      popup._back = back || null;
      popup._quiet = !!quiet;
      popup.on("remove", function () { if (map._popup === popup || !map._popup) mapapp.remember(map, null, null); });
      popup.openOn(map);
      mapapp.remember(map, entry.cfg.name, feature.id);
    }).catch(function () { mapapp.announce(map, i18n.loadError + " " + entry.cfg.title); });
  };

  /* A card for a feature known only by its data (a large layer's item from the API);
     one located at commune level only has no geometry there: its card opens on its
     commune's badge. */
  function openDetached(map, cfg, feature, from, back, entry) {
    var c = feature.geometry && feature.geometry.coordinates;
    var badge = !c && entry && entry.badges && entry.badges[(feature.properties || {}).commune_code];
    if (badge) {
      badge.marker.getPopup().setContent(popupContent(cfg, feature, i18nOf(map)));
      openCard(badge.marker, from, back);
      mapapp.remember(map, cfg.name, feature.id);
      return;
    }
    if (!c) return;
    var popup = card(null).setLatLng([c[1], c[0]])
      .setContent(popupContent(cfg, feature, i18nOf(map)));
    popup._returnFocus = from || null;
    popup._back = back || null;
    popup.openOn(map);
    mapapp.remember(map, cfg.name, feature.id);
  }

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 30 : n < 100 ? 36 : 44;
    return L.divIcon({ html: "<span>" + n + "</span>", className: "mapapp-cluster",
                       iconSize: L.point(size, size) });
  }

  /* Add one configured layer (inline GeoJSON or a URL to fetch). */
  mapapp.addLayer = function (map, cfg) {
    if (cfg.shape) SHAPES[cfg.symbol] = cfg.shape;
    var s = state(map);
    var group = cfg.cluster && !cfg.remote && L.markerClusterGroup
      ? L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
                               iconCreateFunction: clusterIcon })
      : L.featureGroup();
    var entry = { cfg: cfg, group: group, features: [], loaded: false, count: 0 };
    s.layers[cfg.name] = entry;
    s.order.push(cfg.name);
    s.pending += 1;
    if (cfg.visible !== false) group.addTo(map);
    if (cfg.data) {
      drawLayer(map, entry, cfg.data);
    } else if (cfg.remote && cfg.remote.overview) {
      entry.remoteLayer = true;
      fetchJSON(cfg.remote.overview)
        .then(function (data) { drawOverview(map, entry, data); })
        .catch(function () {  /* no overview: the points themselves */
          loadPoints(cfg.remote).then(function (data) { drawRemote(map, entry, data); })
            .catch(function () {
              drawRemote(map, entry, { count: 0, lngs: [], lats: [], codes: [], categories: [] });
              mapapp.announce(map, i18nOf(map).loadError + " " + cfg.title);
            });
        });
    } else if (cfg.remote) {
      entry.remoteLayer = true;
      loadPoints(cfg.remote)
        .then(function (data) { drawRemote(map, entry, data); })
        .catch(function () {
          drawRemote(map, entry, { count: 0, lngs: [], lats: [], codes: [], categories: [] });
          mapapp.announce(map, i18nOf(map).loadError + " " + cfg.title);
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
          mapapp.announce(map, i18nOf(map).loadError + " " + cfg.title);
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
    closeCard: "Fermer la fiche", close: "Fermer",
    streetLevel: "Localisation à la rue seulement",
    communeLevel: "Localisation à la commune seulement",
    communeNote: "Aucune source ne donne d'adresse ni de quartier : listée par commune, pas dessinée comme un point.",
    nafInferred: "déduit de l'activité", confirmed: "Confirmé par une source de",
    communeCount: "éléments localisés à la commune seulement",
    overviewLabel: "{title} : {n} éléments dans la vue, en {groups} groupes ; zoomez pour voir les points",
    cellLabel: "{n} éléments de « {title} » {where} : zoomer",
    cellZoomed: "Zoom sur {n} éléments de « {title} »",
    viewCentre: "au centre de la vue", fromViewCentre: "à {distance} {direction} du centre de la vue",
    directions: { n: "au nord", ne: "au nord-est", e: "à l'est", se: "au sud-est", s: "au sud",
                  sw: "au sud-ouest", w: "à l'ouest", nw: "au nord-ouest" },
    communeCountOne: "élément localisé à la commune seulement"
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

  /* --- the view in the URL ------------------------------------------------------ */

  /* The view as query parameters: centre, zoom, visible layers, open feature. */
  function viewParams(map, base) {
    var s = state(map);
    var params = new URLSearchParams(base || "");
    var c = map.getCenter();
    params.set("center", c.lat.toFixed(5) + "," + c.lng.toFixed(5));
    params.set("zoom", String(map.getZoom()));
    var visible = s.order.filter(function (n) { return map.hasLayer(s.layers[n].group); });
    params.set("layers", visible.join(","));
    if (s.openFeature) params.set("feature", s.openFeature); else params.delete("feature");
    return params;
  }
  mapapp.viewParams = viewParams;

  /* Keep the view in the URL so a copied link reopens it (permalink), and in the
     links that carry it (the embed's "open the full map"). */
  mapapp.remember = function (map, layer, id) {
    var s = state(map);
    if (layer !== undefined) s.openFeature = layer ? layer + ":" + id : null;
    if (!s.options || !s.options.permalink) return;
    var params = viewParams(map, window.location.search);
    var url = window.location.pathname + "?" + params.toString() + window.location.hash;
    try { window.history.replaceState(null, "", url); } catch (e) { /* sandboxed frame */ }
    if (s.fullMapLink) s.fullMapLink.href = fullMapUrl(map);
    map.fire("mapapp:viewchange");
  };

  /* The address of the full map (/) showing this view, in this language. */
  function fullMapUrl(map) {
    var s = state(map);
    var params = viewParams(map);
    params.set("lang", i18nOf(map).lang);
    if (s.options.basemap) params.set("basemap", s.options.basemap);
    return (s.options.fullMapUrl || new URL("./", window.location.href).href) + "?" + params.toString();
  }

  /* The <iframe> code of /embed showing this view. */
  function embedCode(map) {
    var s = state(map);
    var params = viewParams(map);
    params.set("lang", i18nOf(map).lang);
    var src = (s.options.embedUrl || new URL("embed", new URL("./", window.location.href)).href) +
      "?" + params.toString();
    var esc = function (t) { return String(t).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;"); };
    return '<iframe src="' + esc(src) + '" title="' + esc(i18nOf(map).frameTitle || "mapapp") +
      '" width="100%" height="500" style="border:0" loading="lazy"' +
      ' allow="fullscreen; geolocation; clipboard-write"' +
      ' referrerpolicy="strict-origin-when-cross-origin"></iframe>';
  }

  /* --- controls ----------------------------------------------------------------- */

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

  function control(map, position, build, first) {
    var ctl = L.control({ position: position });
    ctl.onAdd = function () {
      var box = build();
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    ctl.addTo(map);
    var node = ctl.getContainer();
    if (first) node.parentNode.insertBefore(node, node.parentNode.firstChild);
    return ctl;
  }

  /* Set a layer visible or hidden, as the layer switch would. */
  function showLayer(map, name, on) {
    var entry = state(map).layers[name];
    if (!entry || map.hasLayer(entry.group) === on) return;
    if (on) map.addLayer(entry.group); else map.removeLayer(entry.group);
    map.fire(on ? "overlayadd" : "overlayremove", { layer: entry.group, name: entry.cfg.title });
  }
  mapapp.showLayer = showLayer;

  /* Layers and legend in one folding box: a checkbox per layer, its symbol, and the
     categories of the visible layers. Folded by default on smaller maps; the
     visitor's choice is remembered. */
  function layersControl(map, s, i18n, options, bar) {
    var box = el("details", "mapapp-legend");
    var remembered = recall("legend");
    var wide = map.getSize().x >= (options.legendOpenWidth || 1400);
    var panelOpen = s.panel && s.panel.current;
    box.open = remembered !== null ? remembered === "1" : (wide && !options.collapsed && !panelOpen);
    var summary = el("summary");
    summary.appendChild(el("span", null, options.layerControl === false ? i18n.legend : i18n.layersLegend));
    box.appendChild(summary);
    var body = null;
    function build() {  /* built when first shown: a folded legend costs nothing */
      if (body) return;
      body = el("div", "mapapp-legend-body");
      s.order.forEach(function (name) { body.appendChild(legendSection(map, s, name, options)); });
      box.appendChild(body);
    }
    L.DomEvent.on(summary, "click", function () {
      build();
      /* the click opens a folded box and folds an open one (its default action,
         after this handler): remember the new state now, not a task later */
      keep("legend", box.open ? "0" : "1");
    });
    box.addEventListener("toggle", function () { if (box.open) build(); });
    if (box.open) build();
    bar.appendChild(box);
    function sync() {
      s.order.forEach(function (name) {
        var on = map.hasLayer(s.layers[name].group);
        var list = box.querySelector('ul[data-layer="' + name + '"]');
        if (list) list.hidden = !on;
        var check = box.querySelector('input[data-toggle="' + name + '"]');
        if (check) check.checked = on;
      });
    }
    map.on("overlayadd overlayremove", sync);
    return box;
  }

  function legendSection(map, s, name, options) {
    var cfg = s.layers[name].cfg;
    var polygon = cfg.geometry !== "Point";
    var section = el("div", "mapapp-legend-layer");
    var head = el("label", "mapapp-layer-toggle");
    if (options.layerControl !== false) {
      var check = el("input");
      check.type = "checkbox";
      check.dataset.toggle = name;
      check.checked = map.hasLayer(s.layers[name].group);
      L.DomEvent.on(check, "change", function () { showLayer(map, name, check.checked); });
      head.appendChild(check);
    }
    var outline = polygon && !cfg.classes;
    head.appendChild(swatch(cfg.symbol, polygon ? (cfg.classes ? cfg.classes[3].color : cfg.color) : "#ffffff",
                            polygon, outline));
    head.appendChild(el("span", null, cfg.title));
    section.appendChild(head);
    var items = cfg.classes
      ? cfg.classes.map(function (c) { return { label: c.label, color: c.color }; })
      : cfg.categories;
    var ul = el("ul");
    ul.dataset.layer = name;
    items.forEach(function (item) {
      var li = el("li");
      li.appendChild(swatch(cfg.symbol, item.color, polygon, outline));
      li.appendChild(el("span", null, item.label));
      ul.appendChild(li);
    });
    ul.hidden = !map.hasLayer(s.layers[name].group);
    section.appendChild(ul);
    return section;
  }

  /* --- search: features by name, and places (quarters, communes, addresses) ------ */

  function featureProps(f) {
    return f.props || (f.layer.feature && f.layer.feature.properties) || {};
  }

  function localHits(s, q, limit) {
    var hits = [];
    s.order.forEach(function (name) {
      var cfg = s.layers[name].cfg;
      s.layers[name].features.forEach(function (f) {
        if (hits.length < limit && (f.text || f.key).indexOf(q) !== -1) {
          hits.push({ kind: "feature", name: f.name, layer: f.layer, layerName: name,
                      title: cfg.title, entryFeature: f,
                      matched: matchedField(cfg, featureProps(f), f.name, q) });
        }
      });
    });
    /* names that start with the query first */
    return hits.sort(function (a, b) {
      return (normalise(a.name).indexOf(q) === 0 ? 0 : 1) - (normalise(b.name).indexOf(q) === 0 ? 0 : 1);
    });
  }

  function searchControl(map, s, i18n, options) {
    control(map, "topleft", function () {
      var box = el("div", "mapapp-search leaflet-control");
      box.setAttribute("role", "search");
      var id = "mapapp-search-" + L.stamp(map);
      var label = el("label", "mapapp-visually-hidden", options.places ? i18n.searchPlacesLabel || i18n.searchLabel : i18n.searchLabel);
      label.htmlFor = id;
      var input = el("input");
      input.id = id;
      input.type = "search";
      input.placeholder = options.places ? i18n.searchPlaces || i18n.search : i18n.search;
      input.autocomplete = "off";
      input.setAttribute("aria-describedby", id + "-status");
      var list = el("ul", "mapapp-search-results");
      list.id = id + "-results";
      var status = el("p", "mapapp-visually-hidden");
      status.id = id + "-status";
      status.setAttribute("aria-live", "polite");
      box.appendChild(label);
      box.appendChild(input);
      box.appendChild(list);
      box.appendChild(status);
      s.searchInput = input;

      function choose(hit) {
        /* a search still on its way would draw the list again over the card */
        clearTimeout(s.searchTimer);
        s.searchToken = (s.searchToken || 0) + 1;
        list.textContent = "";
        input.value = hit.name;
        input.focus({ preventScroll: true });
        if (hit.kind !== "feature") { askAbout(map, s, hit, input); return; }
        var zone = zonePlace(hit);
        if (zone) { askAbout(map, s, zone, input); return; }
        var entry = s.layers[hit.layerName];
        if (!map.hasLayer(entry.group)) showLayer(map, hit.layerName, true);
        if (hit.remoteIndex !== undefined) {
          var at = hit.lat !== undefined ? L.latLng(hit.lat, hit.lon) : null;
          openRemoteAt(map, entry, hit.remoteIndex, at, input);
          return;
        }
        openEntryFeature(map, entry, hit.entryFeature, input);
      }
      function run() {
        var text = input.value.trim(), q = normalise(text);
        list.textContent = "";
        if (q.length < 2) { status.textContent = ""; s.lastHits = []; return; }
        var hits = localHits(s, q, 8);
        render(hits);
        var token = s.searchToken = (s.searchToken || 0) + 1;
        clearTimeout(s.searchTimer);
        var remote = s.order.filter(function (n) { return s.layers[n].remoteLayer; });
        if (!options.places && !(remote.length && hits.length < 8)) return;
        s.searchTimer = setTimeout(function () {
          var asks = [];
          if (options.places) {
            asks.push(fetchJSON(options.places + (options.places.indexOf("?") === -1 ? "?" : "&") +
                                "q=" + encodeURIComponent(text)).then(function (res) {
              return res.hits.map(function (h) { return Object.assign({ kind: h.kind }, h); });
            }));
          }
          remote.forEach(function (name) {
            asks.push(fetchJSON(s.layers[name].cfg.remote.search + "&q=" + encodeURIComponent(text))
              .then(function (res) {
                return res.hits.map(function (h) {
                  return { kind: "feature", name: h.name, title: s.layers[name].cfg.title,
                           layerName: name, remoteIndex: h.index, matched: h.matched,
                           lat: h.lat, lon: h.lon };
                });
              }));
          });
          Promise.all(asks.map(function (p) { return p.catch(function () { return []; }); }))
            .then(function (groups) {
              if (token !== s.searchToken) return;
              var places = options.places ? groups.shift() : [];
              render(mergeHits(places, hits.concat([].concat.apply([], groups)).slice(0, 8)));
            });
        }, 180);
      }
      function hitKey(hit) { return [hit.kind, hit.layerName || "", hit.name].join("\u0000"); }
      /* Drawn at each key, then again when the server's places come: a hit that had
         the focus keeps it, as its new button (else the box takes it back). */
      function render(hits) {
        var active = document.activeElement;
        var kept = active && list.contains(active) ? active.mapappKey : null;
        list.textContent = "";
        hits.forEach(function (hit) {
          var li = el("li");
          var b = el("button", "mapapp-search-hit");
          b.type = "button";
          b.mapappKey = hitKey(hit);
          b.appendChild(el("span", "mapapp-search-name", hit.name));
          b.appendChild(el("span", "mapapp-search-layer", hitKind(hit, i18n)));
          if (hit.matched) b.appendChild(el("span", "mapapp-search-matched", hit.matched.label + (i18n.lang === "fr" ? " : " : ": ") + hit.matched.text));
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
        if (kept) {
          var again = Array.prototype.filter.call(list.querySelectorAll("button"),
            function (b) { return b.mapappKey === kept; })[0];
          (again || input).focus({ preventScroll: true });
        }
      }
      L.DomEvent.on(input, "input", run);
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter" && s.lastHits && s.lastHits.length) { L.DomEvent.preventDefault(e); choose(s.lastHits[0]); }
        if (e.key === "ArrowDown") {
          var first = list.querySelector("button");
          if (first) { first.focus(); L.DomEvent.preventDefault(e); }
        }
        if (e.key === "Escape") { input.value = ""; list.textContent = ""; status.textContent = ""; }
      });
      L.DomEvent.on(list, "keydown", function (e) {
        var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
        var i = buttons.indexOf(document.activeElement);
        if (e.key === "ArrowDown" && i < buttons.length - 1) { buttons[i + 1].focus(); L.DomEvent.preventDefault(e); }
        if (e.key === "ArrowUp") { (i > 0 ? buttons[i - 1] : input).focus(); L.DomEvent.preventDefault(e); }
        if (e.key === "Escape") { list.textContent = ""; input.focus(); }
      });
      return box;
    }, true);
  }

  /* A fibre zone found among the map's features is a quarter: it answers as the
     place search's quarter does (before the server's places come, or without them). */
  function zonePlace(hit) {
    var feature = hit.layer && hit.layer.feature, props = feature && feature.properties;
    if (hit.layerName !== "fibre" || !props || !props.zone_code || !hit.layer.getBounds) return null;
    var b = hit.layer.getBounds(), c = b.getCenter();
    return { kind: "quarter", id: props.zone_code, name: hit.name, lat: c.lat, lon: c.lng,
             bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], geometry: feature.geometry };
  }

  /* Places first, without a quarter shown twice (a fibre zone is also a quarter). */
  function mergeHits(places, features) {
    var names = {};
    places.forEach(function (p) { names[normalise(p.name)] = true; });
    return places.slice(0, 5).concat(features.filter(function (f) {
      return !(f.layerName === "fibre" && names[normalise(f.name)]);
    }));
  }

  /* What a search result is, in words: "Address", "Quarter", or the layer's title. */
  function hitKind(hit, i18n) {
    if (hit.kind === "feature") return hit.title;
    var kind = i18n["kind_" + hit.kind] || hit.kind;
    return hit.detail ? kind + " · " + hit.detail : kind;
  }

  /* --- the answer card: what every place has around it ------------------------------ */

  /* A place asked about: an address, a quarter, an IRIS zone or a commune of the
     search, the visitor's position ("located") or a point of the map ("point", a
     long press or a right click). Each opens the same card: the fibre coverage
     there, the nearest open coworking and training places (those to come apart),
     the stations; every line opens its feature's card. */
  var ZONES = { quarter: true, iris: true, commune: true };

  function askAbout(map, s, place, from) {
    var i18n = i18nOf(map);
    map.closePopup();
    var at = L.latLng(place.lat, place.lon);
    drawPlace(map, s, place, at);
    var name = place.name || (place.kind === "located" ? i18n.yourPosition : i18n.pointOnMap);
    var box = el("div", "mapapp-popup mapapp-answer");
    box.setAttribute("lang", i18n.lang);
    box.appendChild(el("h2", "mapapp-popup-title", name));
    var kind = box.appendChild(el("p", "mapapp-popup-layer", place.name ? i18n["kind_" + place.kind] || "" : ""));
    var here = box.appendChild(el("div", "mapapp-here"));
    here.appendChild(el("p", null, i18n.loading));
    if (place.kind === "address") {
      box.appendChild(el("p", "mapapp-source", i18n.source + (i18n.lang === "fr" ? " : " : ": ") +
        (place.source || "Base Adresse Nationale") + (place.source_date ? " (" + place.source_date + ")" : "")));
    }
    var popup = card(null).setLatLng(at).setContent(box);
    popup._returnFocus = from || null;
    s.answer = { place: place, popup: popup, from: from || null, name: name };
    popup.openOn(map);
    if (ZONES[place.kind]) showZone(map, place, popup.getElement());
    mapapp.announce(map, place.name ? (i18n["kind_" + place.kind] || "") + (i18n.lang === "fr" ? " : " : ": ") + name : name);
    map.fire("mapapp:place", { place: place });
    var token = s.answerToken = (s.answerToken || 0) + 1;
    askServer(s.options.placeContext, place).then(function (answer) {
      if (token !== s.answerToken) return;
      s.answer.data = answer;
      kind.textContent = placeLine(place, answer, i18n);
      fillAnswer(map, s, here, answer);
      if (map._popup !== popup) return;
      markCovered(map);
      /* the card has its full height now: the place in what it leaves visible */
      if (ZONES[place.kind]) showZone(map, place, popup.getElement());
      else keepVisible(map, at, popup.getElement());
    }).catch(function (err) {
      if (token !== s.answerToken) return;
      here.textContent = "";
      here.appendChild(el("p", null, err.status === 400 ? i18n.outsideArea : i18n.loadError));
    });
  }
  mapapp.askAbout = function (map, place, from) { askAbout(map, state(map), place, from); };

  /* The whole zone in the part of the map its card leaves visible. */
  function showZone(map, place, box) {
    if (!place.bbox) { map.setView([place.lat, place.lon], Math.max(map.getZoom(), 14), { animate: false }); return; }
    var free = freeArea(map, box), size = map.getSize();
    map.fitBounds([[place.bbox[1], place.bbox[0]], [place.bbox[3], place.bbox[2]]], {
      maxZoom: 16, animate: false, paddingTopLeft: [70, 70],
      paddingBottomRight: [size.x - free.max.x + 20, size.y - free.max.y + 20] });
  }

  /* The place on the map: a zone's outline, or a marker (a click on it brings its
     answer back); an address is shown closer. */
  function drawPlace(map, s, place, at) {
    if (s.placeLayer) { map.removeLayer(s.placeLayer); s.placeLayer = null; }
    if (ZONES[place.kind]) {
      if (place.geometry) {
        s.placeLayer = L.geoJSON(place.geometry, { pane: "mapapp-outlines", interactive: false,
          style: { color: "#1d2530", weight: 3, dashArray: "2 6", fill: false } }).addTo(map);
      }
      return;
    }
    s.placeLayer = new ShapeMarker(at, { symbol: "circle", radius: 9, color: "#1d2530", weight: 3,
                                         fillColor: "#ffffff", fillOpacity: 1, pane: "markerPane" }).addTo(map);
    if (place.kind === "address") map.setView(at, Math.max(map.getZoom(), 16), { animate: false });
    s.placeLayer.on("click", function () { reopenAnswer(map, s); });
  }

  /* The server's answer about a place: a zone by its kind and code, else a point. */
  function askServer(url, place) {
    if (!url) return Promise.reject(new Error("no place context"));
    var params = ZONES[place.kind] && place.id
      ? "kind=" + encodeURIComponent(place.kind) + "&code=" + encodeURIComponent(place.id)
      : "lat=" + place.lat + "&lon=" + place.lon;
    return fetch(url + (url.indexOf("?") === -1 ? "?" : "&") + params,
                 { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
        return r.json();
      });
  }

  /* What the place is, under its name: its kind, its commune, how precisely known. */
  function placeLine(place, answer, i18n) {
    var named = !!place.name;  /* a point's name already says what it is */
    var parts = named ? [i18n["kind_" + place.kind] || place.kind] : [];
    var commune = answer.place && answer.place.commune;
    if (commune && !(place.kind === "commune" && commune.code === place.id)) parts.push(commune.name);
    if (place.kind === "point") {
      parts.push(place.lat.toLocaleString(i18n.locale, { minimumFractionDigits: 5 }) +
                 (i18n.lang === "fr" ? " ; " : ", ") +
                 place.lon.toLocaleString(i18n.locale, { minimumFractionDigits: 5 }));
    }
    if (place.kind === "located" && place.accuracy) {
      parts.push(tr(i18n, "accuracy", { distance: formatDistance(place.accuracy, i18n) }));
    }
    return parts.join(" · ");
  }

  /* Open the answer card again (a feature card's "back" button, the place's marker). */
  function reopenAnswer(map, s) {
    if (!s.answer) return;
    var popup = s.answer.popup;
    popup._returnFocus = s.answer.from;
    popup.openOn(map);
  }

  function answerBack(map, s) {
    var b = el("button", "mapapp-back", tr(i18nOf(map), "backToAnswer", { place: s.answer.name }));
    b.type = "button";
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      map.closePopup();
      reopenAnswer(map, s);
    });
    return b;
  }

  /* The distance of a line, in the one wording of the site: straight line, then the
     estimated walk (the card's footnote states how it is estimated). */
  function distanceText(item, i18n) {
    var minutes = item.walk_min, walk;
    if (minutes > 120) walk = i18n.walkLong;  /* a walk no one takes: not to the minute */
    else if (minutes < 60) walk = tr(i18n, "walkMinutes", { n: minutes });
    else walk = tr(i18n, "walkHours", { h: Math.floor(minutes / 60), m: ("0" + minutes % 60).slice(-2) });
    return tr(i18n, "crowFlies", { distance: formatDistance(item.distance_m, i18n) }) + " · " + walk;
  }
  mapapp.distanceText = distanceText;

  function formatDistance(m, i18n) {
    if (m < 1000) return Math.round(m / 10) * 10 + " m";
    return (Math.round(m / 100) / 10).toLocaleString(i18n.locale) + " km";
  }

  /* "98 %" in French (a non-breaking space), "98%" in English. */
  function percent(value, i18n) {
    var n = (Math.round(value * 1000) / 10).toLocaleString(i18n.locale);
    return i18n.lang === "fr" ? n + "\u00a0%" : n + "%";
  }

  /* The card's sections, as the server answered. */
  function fillAnswer(map, s, box, answer) {
    var i18n = i18nOf(map);
    box.textContent = "";
    fibreSection(map, s, box, answer.fibre, answer.place, i18n);
    listSection(map, s, box, answer.coworking, i18n.nearestCoworking, i18n.noCoworking, "opening");
    listSection(map, s, box, answer.schools, i18n.nearestSchools, i18n.noSchool, "digital_programmes");
    listSection(map, s, box, answer.stations, i18n.nearestStations, i18n.noStation);
    var w = answer.walking || {};
    var note = tr(i18n, "distanceNote", {
      speed: (w.speed_kmh || 0).toLocaleString(i18n.locale),
      detour: (w.detour_factor || 0).toLocaleString(i18n.locale) });
    if (answer.place && answer.place.distances_from === "representative_point") note += " " + i18n.zoneDistanceNote;
    box.appendChild(el("p", "mapapp-notes mapapp-distance-note", note));
  }

  /* A button naming a feature, that opens its card (with a way back to the answer);
     plain text when the feature's layer is not on this map. */
  function featureButton(map, s, item, name) {
    var entry = s.layers[item.layer];
    if (!entry) return el("span", "mapapp-answer-name", name);
    var b = el("button", "mapapp-link-button mapapp-answer-name", name);
    b.type = "button";
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      openListed(map, s, entry, item);
    });
    return b;
  }

  function openListed(map, s, entry, item) {
    var from = s.answer ? s.answer.from : null;
    var back = s.answer ? answerBack(map, s) : null;
    if (!map.hasLayer(entry.group)) showLayer(map, entry.cfg.name, true);
    if (entry.remoteLayer) {
      if (item.index === null || item.index === undefined) return;
      var at = item.lat !== undefined ? L.latLng(item.lat, item.lon) : null;
      openRemoteAt(map, entry, item.index, at, from, back);
      return;
    }
    var f = entry.features.filter(function (x) { return String(x.id) === String(item.id); })[0];
    if (f && f.layer.feature && entry.cfg.geometry !== "Point") {
      openCard(f.layer, from, back);  /* a fibre zone: its card, the map stays */
    } else if (f) {
      openEntryFeature(map, entry, f, from, back);
    }
  }

  function fibreSection(map, s, box, fibre, where, i18n) {
    box.appendChild(el("h3", null, i18n.fibreHere));
    var p = box.appendChild(el("p"));
    var zones = fibre.zones || [];
    var zoneItem = function (z) { return { layer: "fibre", id: zoneId(s, z.zone_code) }; };
    if (fibre.missing) {
      var why = fibre.missing === "no_figure"
        ? tr(i18n, "noFibreFigure", { zone: zones.map(function (z) { return z.zone_name; }).join(", ") })
        : (where && where.distances_from === "point" ? i18n.noFibrePoint : i18n.noFibreZone);
      p.textContent = i18n.noFigure + " " + why;
      return;
    }
    var values = { coverage: percent(fibre.coverage, i18n), date: fibre.as_of || "",
                   n: zones.length, premises: (fibre.premises || 0).toLocaleString(i18n.locale) };
    if (zones.length === 1) {
      values.zone = "\u0000";
      var text = tr(i18n, fibre.basis === "at_centre" ? "fibreCentre" : "fibreZone", values).split("\u0000");
      p.appendChild(document.createTextNode(text[0]));
      p.appendChild(featureButton(map, s, zoneItem(zones[0]), zones[0].zone_name));
      p.appendChild(document.createTextNode(text[1]));
    } else {
      p.textContent = tr(i18n, "fibreZones", values);
      var more = box.appendChild(el("details", "mapapp-answer-zones"));
      more.appendChild(el("summary", null, tr(i18n, "fibreZonesList", { n: zones.length })));
      var ul = more.appendChild(el("ul"));
      zones.forEach(function (z) {
        var li = ul.appendChild(el("li"));
        li.appendChild(featureButton(map, s, zoneItem(z), z.zone_name));
        li.appendChild(document.createTextNode(" — " + (z.coverage === null ? i18n.unknownValue : percent(z.coverage, i18n))));
      });
    }
    if (fibre.without_figure) box.appendChild(el("p", "mapapp-muted", tr(i18n, "fibreWithout", { n: fibre.without_figure })));
    if (fibre.illustrative) {
      box.appendChild(el("p", "mapapp-flags")).appendChild(el("span", "mapapp-flag mapapp-flag-illustrative", i18n.illustrative));
    }
  }

  /* The id of the fibre zone of a code, as the map drew it. */
  function zoneId(s, code) {
    var entry = s.layers.fibre;
    var f = entry && entry.features.filter(function (x) {
      return x.layer.feature && x.layer.feature.properties.zone_code === code;
    })[0];
    return f ? f.id : null;
  }

  function listSection(map, s, box, part, title, none, detail) {
    var i18n = i18nOf(map);
    part = part || { nearest: [], coming: [], in_commune: [] };
    box.appendChild(el("h3", null, title));
    if (!part.nearest.length && !part.coming.length && !part.in_commune.length) {
      box.appendChild(el("p", null, none));
      return;
    }
    if (part.nearest.length) {
      var ol = box.appendChild(el("ol", "mapapp-nearest"));
      part.nearest.forEach(function (item) { ol.appendChild(answerLine(map, s, item, detail, false)); });
    }
    if (part.coming.length) {
      box.appendChild(el("h4", null, i18n.comingTitle));
      var ul = box.appendChild(el("ul", "mapapp-nearest mapapp-coming"));
      part.coming.forEach(function (item) { ul.appendChild(answerLine(map, s, item, detail, true)); });
    }
    if (part.in_commune.length) {
      box.appendChild(el("h4", null, i18n.inCommuneTitle));
      var uc = box.appendChild(el("ul", "mapapp-nearest mapapp-in-commune"));
      part.in_commune.forEach(function (item) { uc.appendChild(answerLine(map, s, item, detail, true)); });
    }
  }

  /* One line: the feature's name (opening its card), then what it is and how far. */
  function answerLine(map, s, item, detail, withStatus) {
    var i18n = i18nOf(map);
    var li = el("li");
    li.appendChild(featureButton(map, s, item, item.name));
    var said = [];
    if ((withStatus || item.status !== "open") && item.status_label) said.push(item.status_label);
    if (detail === "opening" && item.opening && item.status !== "open") said.push(tr(i18n, "openingOn", { date: item.opening }));
    if (item.distance_m !== undefined) said.push(distanceText(item, i18n));
    else said.push(i18n.communeLevel);
    li.appendChild(el("span", "mapapp-answer-detail", said.join(" · ")));
    if (detail === "digital_programmes" && item.digital_programmes) {
      li.appendChild(el("span", "mapapp-answer-teaches", item.digital_programmes));
    }
    return li;
  }

  /* --- tools: initial view, full screen, locate me --------------------------------- */

  function toolsControl(map, s, i18n, options) {
    control(map, "topleft", function () {
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
        var here = null, locateButton = null;
        locateButton = button(bar, "mapapp-locate", i18n.locate, function () {
          map.locate({ setView: true, maxZoom: 16 });
        });
        /* where the visitor is: the accuracy circle, and the answer card there */
        map.on("locationfound", function (e) {
          if (here) map.removeLayer(here);
          here = L.circle(e.latlng, { radius: e.accuracy, weight: 1, color: "#136aec", interactive: false })
            .addTo(map);
          askAbout(map, s, { kind: "located", lat: +e.latlng.lat.toFixed(6), lon: +e.latlng.lng.toFixed(6),
                             accuracy: e.accuracy }, locateButton);
        });
        map.on("locationerror", function () { mapapp.announce(map, i18n.locateError); });
      }
      return bar;
    });
  }

  /* A long press (touch; Leaflet's tapHold makes it a contextmenu) or a right click
     on the map asks about that point. A phone may send both the browser's own
     contextmenu and Leaflet's: one answer for one press. */
  function pressToAsk(map, s) {
    var last = 0;
    map.on("contextmenu", function (e) {
      if (e.originalEvent) L.DomEvent.preventDefault(e.originalEvent);
      var now = Date.now();
      if (now - last < 800) return;
      last = now;
      askAbout(map, s, { kind: "point", lat: +e.latlng.lat.toFixed(6), lon: +e.latlng.lng.toFixed(6) },
               map.getContainer());
    });
  }

  /* The embed's "open the full map" link, as a control that keeps the view. */
  function fullMapControl(map, s, link) {
    control(map, "bottomleft", function () {
      var box = el("div", "mapapp-fullmap leaflet-control");
      link.className = "";
      box.appendChild(link);
      return box;
    });
    s.fullMapLink = link;
    link.href = fullMapUrl(map);
  }

  /* The base map's credits fold behind a button on narrow maps. */
  function compactAttribution(map, i18n) {
    var ctl = map.attributionControl;
    if (!ctl) return;
    var container = ctl.getContainer();
    var update = ctl._update;
    var toggle = el("button", "mapapp-attribution-toggle", "©");
    toggle.type = "button";
    toggle.setAttribute("aria-label", i18n.credits);
    toggle.setAttribute("aria-expanded", "false");
    L.DomEvent.on(toggle, "click", function (e) {
      L.DomEvent.stop(e);
      var open = container.classList.toggle("mapapp-attribution-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    ctl._update = function () {
      update.call(ctl);
      var text = el("span", "mapapp-attribution-text");
      while (container.firstChild) text.appendChild(container.firstChild);
      container.appendChild(toggle);
      container.appendChild(text);
    };
    ctl._update();
  }

  function openFeature(map, s, ref, remoteIndex) {
    if (!ref) return;
    var name = String(ref).split(":")[0];
    if (s.layers[name] && s.layers[name].remoteLayer) {
      var entry = s.layers[name];
      if (remoteIndex === null || remoteIndex === undefined) return;
      openRemoteAt(map, entry, remoteIndex, null, null, null, true);
      return;
    }
    var parts = String(ref).split(":");
    var local = s.layers[parts[0]];
    if (!local) return;
    var id = parts.slice(1).join(":");
    var hit = local.features.filter(function (f) { return String(f.id) === id; })[0];
    if (!hit) return;
    if (local.group.getVisibleParent || hit.props) {
      openEntryFeature(map, local, hit, null, null, true);
    } else {
      openCard(hit.layer, null, null, true);  /* the page opened on the view the link asked for */
    }
  }

  /* --- panels: about this map (info) and the places in view (data browser) -------- */

  function panelsControl(map, s, i18n, options, bar) {
    if (!options.infoPanel && !options.browse) return;
    var panel = el("section", "mapapp-panel");
    panel.id = "mapapp-panel-" + L.stamp(map);
    panel.hidden = true;
    var head = el("div", "mapapp-panel-head");
    var title = el("h2", "mapapp-panel-title");
    title.id = panel.id + "-title";
    title.tabIndex = -1;
    panel.setAttribute("aria-labelledby", title.id);
    var close = el("button", "mapapp-card-close");
    close.type = "button";
    close.setAttribute("aria-label", i18n.closePanel);
    close.title = i18n.closePanel;
    close.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
    head.appendChild(title);
    head.appendChild(close);
    var body = el("div", "mapapp-panel-body");
    panel.appendChild(head);
    panel.appendChild(body);
    map.getContainer().appendChild(panel);
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    var p = { map: map, s: s, i18n: i18n, options: options, panel: panel, title: title,
              body: body, current: null, opener: null, buttons: {} };
    s.panel = p;
    function shut() {
      var opener = p.opener;
      panel.hidden = true;
      p.current = null;
      p.opener = null;
      syncButtons(p);
      if (opener) opener.focus({ preventScroll: true });
    }
    p.close = shut;
    L.DomEvent.on(close, "click", function (e) {
      L.DomEvent.stop(e);
      if (p.current === "info") keep("info", "0");
      shut();
    });
    L.DomEvent.on(panel, "keydown", function (e) {
      if (e.key === "Escape" && !e.defaultPrevented) { L.DomEvent.stop(e); shut(); }
    });
    if (options.infoPanel) p.buttons.info = panelButton(p, bar, "info", i18n.infoButton, "i");
    if (options.browse) p.buttons.browse = panelButton(p, bar, "browse", i18n.browseButton, "≡");
    map.on("moveend overlayadd overlayremove mapapp:filter", function () {
      if (p.current === "browse") renderBrowseList(p);
    });
    map.on("mapapp:place", function () {  /* a place chosen: the list offers nearest first */
      p.browseOrder = "near";
      fillOrder(p);
      if (p.current === "browse") renderBrowseList(p);
    });
    var wide = map.getSize().x >= NARROW;
    if (options.infoPanel === "open" && recall("info") !== "0" && wide) openPanel(p, "info", null, true);
  }

  function panelButton(p, bar, kind, label, icon) {
    var b = el("button", "mapapp-panel-button");
    b.type = "button";
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", p.panel.id);
    b.title = label;
    b.appendChild(el("span", "mapapp-panel-icon", icon)).setAttribute("aria-hidden", "true");
    b.appendChild(el("span", "mapapp-panel-label", label));
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      var underCard = p.map.getContainer().classList.contains("mapapp-card-open");
      if (underCard) p.map.closePopup();  /* the panel asked for comes out on top */
      if (p.current === kind && !underCard) {
        if (kind === "info") keep("info", "0");
        p.close();
      } else if (p.current !== kind) {
        openPanel(p, kind, b);
      } else {
        p.title.focus({ preventScroll: true });
      }
    });
    bar.appendChild(b);
    return b;
  }

  /* A panel under an open card is not shown: its button says so. */
  function syncButtons(p) {
    var container = p.map.getContainer();
    container.classList.toggle("mapapp-panel-open", !!p.current);
    var shown = !container.classList.contains("mapapp-card-open");
    markCovered(p.map);
    Object.keys(p.buttons).forEach(function (k) {
      p.buttons[k].setAttribute("aria-expanded", String(shown && p.current === k));
    });
  }

  function openPanel(p, kind, opener, quiet) {
    p.current = kind;
    p.opener = opener || p.buttons[kind] || null;
    p.body.textContent = "";
    p.panel.dataset.kind = kind;
    if (kind === "info") {
      p.title.textContent = p.i18n.infoTitle;
      renderInfo(p);
    } else {
      p.title.textContent = p.i18n.browseTitle;
      renderBrowse(p);
    }
    p.panel.hidden = false;
    p.body.scrollTop = 0;
    syncButtons(p);
    if (!quiet) p.title.focus({ preventScroll: true });
  }
  mapapp.openPanel = function (map, kind) {
    var p = state(map).panel;
    if (p) openPanel(p, kind, null);
  };

  function section(parent, heading) {
    var sec = el("section", "mapapp-panel-section");
    sec.appendChild(el("h3", null, heading));
    parent.appendChild(sec);
    return sec;
  }

  /* What a layer's features say about themselves: sources, dates, illustrative ones. */
  function layerFacts(p, name) {
    var entry = p.s.layers[name];
    var given = (p.options.info && p.options.info.layers && p.options.info.layers[name]) || {};
    var facts = { features: entry.count, sources: given.sources, more: given.more_sources || 0,
                  latest: given.latest_source_date, licence: given.licence,
                  licences: given.licences || [], attribution: given.attribution,
                  illustrative: given.illustrative, examples: given.illustrative_examples || [] };
    if (entry.remoteLayer || !entry.features.length) return facts;
    var counts = {}, latest = "", illustrative = [];
    entry.features.forEach(function (f) {
      var props = f.props || (f.layer.feature && f.layer.feature.properties) || {};
      if (props.source) counts[props.source] = (counts[props.source] || 0) + 1;
      if (props.source_date && props.source_date > latest) latest = props.source_date;
      if (props.illustrative) illustrative.push(f.name);
    });
    var sources = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; });
    facts.sources = facts.sources || sources.slice(0, 5);
    facts.more = facts.sources === given.sources ? facts.more : Math.max(0, sources.length - 5);
    facts.latest = facts.latest || latest || null;
    facts.illustrative = illustrative.length;
    facts.examples = illustrative.slice(0, 4);
    return facts;
  }

  function renderInfo(p) {
    var i18n = p.i18n, s = p.s, body = p.body;
    body.appendChild(el("p", "mapapp-panel-intro", i18n.infoIntro));
    var ill = section(body, i18n.illustrativeTitle);
    ill.appendChild(el("p", null, i18n.illustrativeIntro));
    var list = el("ul");
    s.order.forEach(function (name) {
      var facts = layerFacts(p, name);
      if (!facts.illustrative) return;
      var li = el("li", null, tr(i18n, "illustrativeCount", {
        layer: s.layers[name].cfg.title, n: facts.illustrative, total: facts.features }));
      if (facts.examples.length) li.appendChild(el("span", "mapapp-muted", " (" + facts.examples.join(", ") +
        (facts.illustrative > facts.examples.length ? ", …" : "") + ")"));
      list.appendChild(li);
    });
    if (list.childNodes.length) ill.appendChild(list);
    else ill.appendChild(el("p", null, i18n.illustrativeNone));
    renderSources(p, section(body, i18n.sourcesTitle));
    renderShare(p, section(body, i18n.shareTitle));
    var help = section(body, i18n.helpTitle);
    var ul = el("ul", "mapapp-help");
    (i18n.help || []).forEach(function (line) { ul.appendChild(el("li", null, line)); });
    help.appendChild(ul);
  }

  function link(text, href, external) {
    var a = el("a", null, text);
    a.href = href;
    if (external) { a.rel = "noopener noreferrer"; a.target = "_blank"; }
    return a;
  }

  function renderSources(p, box) {
    var i18n = p.i18n, s = p.s, base = new URL("./", window.location.href);
    var pages = el("p");
    var info = p.options.info || {};
    pages.appendChild(link(i18n.openDataPage, info.data || new URL("data", base).href, p.options.embedded));
    pages.appendChild(document.createTextNode(" · "));
    pages.appendChild(link(i18n.listPage, info.list || new URL("list", base).href, p.options.embedded));
    box.appendChild(pages);
    s.order.forEach(function (name) {
      var cfg = s.layers[name].cfg, facts = layerFacts(p, name);
      var item = el("div", "mapapp-layer-facts");
      item.appendChild(el("h4", null, cfg.title));
      if (facts.sources && facts.sources.length) {
        item.appendChild(el("p", null, i18n.sourcesLabel + " " + facts.sources.join(" ; ") +
          (facts.more ? " " + tr(i18n, "andMore", { n: facts.more }) : "")));
      }
      if (facts.latest) item.appendChild(el("p", null, i18n.latestLabel + " " + facts.latest));
      var lic = el("p", null, i18n.licenceLabel + " ");
      var licences = facts.licences.length ? facts.licences : (facts.licence ? [facts.licence] : []);
      licences = licences.filter(function (l) { return safeUrl(l.url); });
      if (licences.length) {  /* a layer of mixed sources: each licence, as /data says */
        licences.forEach(function (l, k) {
          if (k) lic.appendChild(document.createTextNode(" ; "));
          lic.appendChild(link(l.title, safeUrl(l.url), true));
          if (licences.length > 1 && l.features) lic.appendChild(document.createTextNode(" (" + l.features + ")"));
        });
      } else {
        lic.appendChild(link(i18n.licenceSee, info.data || new URL("data", base).href, p.options.embedded));
      }
      item.appendChild(lic);
      if (facts.attribution) item.appendChild(el("p", "mapapp-attribution-line", facts.attribution));
      var dl = el("p", null, i18n.downloadLabel + " ");
      [["geojson", "GeoJSON"], ["csv", "CSV"], ["gpkg", "GeoPackage"]].forEach(function (f, k) {
        if (k) dl.appendChild(document.createTextNode(" · "));
        var a = link(f[1], (info.download || new URL("download/{name}.{fmt}", base).href.replace(/%7B/g, "{").replace(/%7D/g, "}"))
          .replace("{name}", name).replace("{fmt}", f[0]));
        a.appendChild(el("span", "mapapp-visually-hidden", " – " + cfg.title));
        dl.appendChild(a);
      });
      item.appendChild(dl);
      box.appendChild(item);
    });
  }

  /* "Share this view": the link of the full map and the embed code, with copy buttons. */
  function renderShare(p, box) {
    var i18n = p.i18n, map = p.map;
    var status = el("p", "mapapp-copy-status");
    status.setAttribute("role", "status");
    function field(labelText, value, multiline, copyLabel) {
      var id = p.panel.id + (multiline ? "-code" : "-link");
      var wrap = el("div", "mapapp-share-field");
      var label = el("label", null, labelText);
      label.htmlFor = id;
      var input = el(multiline ? "textarea" : "input");
      input.id = id;
      input.readOnly = true;
      if (multiline) input.rows = 3;
      input.value = value;
      var b = el("button", "mapapp-copy", copyLabel);
      b.type = "button";
      L.DomEvent.on(b, "click", function (e) { L.DomEvent.stop(e); copyText(input, status, i18n); });
      wrap.appendChild(label);
      wrap.appendChild(input);
      wrap.appendChild(b);
      box.appendChild(wrap);
      return input;
    }
    var linkInput = field(i18n.linkLabel, fullMapUrl(map), false, i18n.copyLink);
    var codeInput = field(i18n.codeLabel, embedCode(map), true, i18n.copyCode);
    box.appendChild(status);
    map.on("mapapp:viewchange", function () {
      linkInput.value = fullMapUrl(map);
      codeInput.value = embedCode(map);
    });
  }

  function copyText(input, status, i18n) {
    input.focus();
    input.select();
    function done() { status.textContent = i18n.copied; }
    function manual() { status.textContent = i18n.copyManual; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        try { if (document.execCommand("copy")) done(); else manual(); } catch (e) { manual(); }
      });
    } else {
      try { if (document.execCommand("copy")) done(); else manual(); } catch (e) { manual(); }
    }
  }

  /* The data browser: per layer, the features in view, filtered like /list. */
  function renderBrowse(p) {
    var i18n = p.i18n, s = p.s, body = p.body;
    var form = el("div", "mapapp-browse-filters");
    function labelled(labelText, control, id) {
      var wrap = el("div", "mapapp-field");
      var label = el("label", null, labelText);
      label.htmlFor = id;
      control.id = id;
      wrap.appendChild(label);
      wrap.appendChild(control);
      form.appendChild(wrap);
      return control;
    }
    var layerSelect = labelled(i18n.layerLabel, el("select"), p.panel.id + "-layer");
    s.order.forEach(function (name) {
      var o = el("option", null, s.layers[name].cfg.title);
      o.value = name;
      layerSelect.appendChild(o);
    });
    var visible = s.order.filter(function (n) { return p.map.hasLayer(s.layers[n].group); });
    layerSelect.value = p.browseLayer && s.layers[p.browseLayer] ? p.browseLayer : (visible[0] || s.order[0]);
    var catSelect = labelled(i18n.categoryLabel, el("select"), p.panel.id + "-category");
    var nameInput = labelled(i18n.nameLabel, el("input"), p.panel.id + "-name");
    nameInput.type = "search";
    nameInput.autocomplete = "off";
    nameInput.value = p.browseName || "";
    var nameLabel = form.querySelector('label[for="' + nameInput.id + '"]');
    function fillCategories() {
      var cfg = s.layers[layerSelect.value].cfg;
      var fields = ((cfg.search || {}).fields || []).map(function (f) {
        return (cfg.fields[f] ? cfg.fields[f].label : f).toLocaleLowerCase(i18n.locale);
      });
      nameLabel.textContent = fields.length ? tr(i18n, "nameOrLabel", { fields: fields.join(", ") }) : i18n.nameLabel;
      catSelect.textContent = "";
      var all = el("option", null, i18n.allCategories);
      all.value = "";
      catSelect.appendChild(all);
      var cats = cfg.classes
        ? cfg.classes.map(function (c, k) { return { value: String(k), label: c.label }; })
        : cfg.categories;
      cats.forEach(function (c) {
        var o = el("option", null, c.label);
        o.value = c.value;
        catSelect.appendChild(o);
      });
      catSelect.value = p.browseCategory || "";
      catSelect.disabled = !cats.length;
    }
    fillCategories();
    L.DomEvent.on(layerSelect, "change", function () {
      p.browseLayer = layerSelect.value;
      p.browseCategory = "";
      fillCategories();
      renderBrowseList(p);
    });
    L.DomEvent.on(catSelect, "change", function () { p.browseCategory = catSelect.value; renderBrowseList(p); });
    L.DomEvent.on(nameInput, "input", function () { p.browseName = nameInput.value; renderBrowseList(p); });
    var orderSelect = labelled(i18n.orderLabel, el("select"), p.panel.id + "-order");
    p.browseOrderSelect = orderSelect;
    fillOrder(p);
    L.DomEvent.on(orderSelect, "change", function () { p.browseOrder = orderSelect.value; renderBrowseList(p); });
    body.appendChild(form);
    p.browse = { layer: layerSelect, category: catSelect, name: nameInput };
    p.browse.count = body.appendChild(el("p", "mapapp-browse-count"));
    p.browse.count.setAttribute("role", "status");
    p.browse.list = body.appendChild(el("ul", "mapapp-browse-list"));
    p.browse.more = body.appendChild(el("p", "mapapp-muted"));
    p.browseLayer = layerSelect.value;
    renderBrowseList(p);
  }

  var BROWSE_MAX = 100;

  /* --- the list from a chosen place: nearest first, and a wider view on demand ------ */

  /* The place the visitor last asked about (search, position, a press), or null. */
  function browseOrigin(p) {
    var a = p.s.answer;
    return a && a.place ? L.latLng(a.place.lat, a.place.lon) : null;
  }

  /* The list's orders: by name, and nearest first once a place is chosen. */
  function fillOrder(p) {
    var select = p.browseOrderSelect, i18n = p.i18n, a = p.s.answer;
    if (!select) return;
    select.textContent = "";
    var byName = el("option", null, i18n.orderName);
    byName.value = "name";
    select.appendChild(byName);
    if (a && a.place) {
      var near = el("option", null, tr(i18n, "orderNear", { place: a.name }));
      near.value = "near";
      select.appendChild(near);
    }
    if (p.browseOrder === "near" && !(a && a.place)) p.browseOrder = "name";
    select.value = p.browseOrder || "name";
  }

  function atCommuneLevel(f) {
    return !!(f.props && f.props.precision === "commune");
  }

  function featureLatLng(f) {
    return f.layer.getLatLng ? f.layer.getLatLng() : f.layer.getBounds().getCenter();
  }

  /* A walking time as the server estimates it (analysis.walk_minutes). */
  function walkMinutes(p, metres) {
    var w = p.options.walking || { speed_kmh: 4.5, detour_factor: 1.3 };
    return Math.max(1, Math.round(metres * w.detour_factor / (w.speed_kmh * 1000 / 60)));
  }

  /* Distance words of a list item from the chosen place (null: not measured). */
  function itemDistance(p, metres) {
    if (metres === null) return p.i18n.communeLevel;
    return distanceText({ distance_m: metres, walk_min: walkMinutes(p, metres) }, p.i18n);
  }

  /* The located features of a layer that the list's filters keep, anywhere: the
     drawn ones, or the points of a large layer (its category codes; not its names,
     which the server holds). */
  function candidates(p, entry) {
    var cat = p.browse.category.value, q = normalise(p.browse.name.value.trim()), out = [];
    if (entry.remoteLayer) {
      if (!entry.markers) return out;  /* an overview: no point known yet */
      var code = cat ? (entry.categoryValues || []).indexOf(cat) + 1 : 0;
      for (var i = 0; i < entry.group.located; i++) {
        if (!code || entry.group.codes[i] === code) out.push(entry.markers[i].getLatLng());
      }
      return out;
    }
    entry.features.forEach(function (f) {
      if (atCommuneLevel(f) || !entry.group.hasLayer(f.layer)) return;
      if (q && (f.text || f.key).indexOf(q) === -1) return;
      if (cat) { var c = categoryOf(entry.cfg, featureProps(f)); if (!c || String(c.value) !== cat) return; }
      out.push(featureLatLng(f));
    });
    return out;
  }

  /* Nothing of the layer in view: widen the view to the chosen place (or the map's
     centre) and the three nearest features, beside the open panel. */
  function widenView(p, entry) {
    var map = p.map, origin = browseOrigin(p) || map.getCenter();
    var near = candidates(p, entry).sort(function (a, b) {
      return origin.distanceTo(a) - origin.distanceTo(b);
    }).slice(0, 3);
    if (!near.length) { p.browse.count.textContent = p.i18n.noneAnywhere; return; }
    var r = p.panel.getBoundingClientRect(), size = map.getSize();
    var pad = r.width >= size.x - 24 ? [20, r.height + 20] : [r.width + 30, 20];
    map.once("moveend", function () {
      setTimeout(function () {
        var first = p.browse.list.querySelector("button");
        (first || p.browse.name).focus({ preventScroll: true });
      }, 0);
    });
    map.fitBounds(L.latLngBounds([origin].concat(near)),
                  { paddingTopLeft: [60, 70], paddingBottomRight: pad, maxZoom: map.getZoom(), animate: false });
  }

  function widenButton(p, entry) {
    var b = el("button", "mapapp-link-button mapapp-widen", p.i18n.widenView);
    b.type = "button";
    L.DomEvent.on(b, "click", function (e) { L.DomEvent.stop(e); widenView(p, entry); });
    p.browse.list.appendChild(el("li")).appendChild(b);
  }

  /* The list is drawn again when the map moves (a card's own pan too): the item that
     had the focus keeps it, as its new button. */
  function renderBrowseList(p) {
    if (!p.browse) return;
    var active = document.activeElement;
    var key = active && p.browse.list.contains(active) && active.dataset ? active.dataset.key : null;
    drawBrowseList(p);
    if (key) refocusBrowseItem(p, key);
  }

  function refocusBrowseItem(p, key) {
    var active = document.activeElement;
    if (active && active !== document.body && document.body.contains(active)) return;
    var again = p.browse.list.querySelector('[data-key="' + CSS.escape(key) + '"]');
    (again || p.browse.name).focus({ preventScroll: true });
  }

  function drawBrowseList(p) {
    var s = p.s, map = p.map, i18n = p.i18n;
    var name = p.browse.layer.value, entry = s.layers[name];
    var list = p.browse.list;
    list.textContent = "";
    p.browse.more.textContent = "";
    if (!map.hasLayer(entry.group)) {
      p.browse.count.textContent = i18n.layerHidden;
      var show = el("button", "mapapp-link-button", i18n.showLayer);
      show.type = "button";
      L.DomEvent.on(show, "click", function (e) { L.DomEvent.stop(e); showLayer(map, name, true); });
      list.appendChild(el("li")).appendChild(show);
      return;
    }
    if (entry.remoteLayer) { browseRemote(p, entry); return; }
    var bounds = map.getBounds(), cat = p.browse.category.value, q = normalise(p.browse.name.value.trim());
    var found = entry.features.filter(function (f) {
      var props = f.props || (f.layer.feature && f.layer.feature.properties) || {};
      if (!entry.group.hasLayer(f.layer)) return false;  /* filtered out by the planner */
      if (q && (f.text || f.key).indexOf(q) === -1) return false;
      if (cat) { var c = categoryOf(entry.cfg, props); if (!c || String(c.value) !== cat) return false; }
      return f.layer.getBounds ? bounds.intersects(f.layer.getBounds()) : bounds.contains(f.layer.getLatLng());
    }).sort(function (a, b) { return a.name.localeCompare(b.name, i18n.lang); });
    var origin = p.browseOrder === "near" ? browseOrigin(p) : null, dist = {};
    if (origin) {  /* nearest first; features placed at commune level only, last */
      found.forEach(function (f) { dist[f.id] = atCommuneLevel(f) ? null : origin.distanceTo(featureLatLng(f)); });
      found.sort(function (a, b) {
        var da = dist[a.id], db = dist[b.id];
        return (da === null) - (db === null) || (da || 0) - (db || 0);
      });
    }
    p.browse.count.textContent = found.length
      ? tr(i18n, "inView", { n: found.length.toLocaleString(i18n.locale) }) : i18n.noneInView;
    if (!found.length) widenButton(p, entry);
    found.slice(0, BROWSE_MAX).forEach(function (f) {
      var props = featureProps(f);
      browseItem(p, entry, f.name, props, name + ":" + f.id, function (from, back) {
        openEntryFeature(map, entry, f, from, back);
      }, {
        distance: origin ? itemDistance(p, dist[f.id]) : null,
        matched: matchedField(entry.cfg, props, f.name, q)
      });
    });
    if (found.length > BROWSE_MAX) {
      p.browse.more.textContent = tr(i18n, "moreInView", { n: (found.length - BROWSE_MAX).toLocaleString(i18n.locale) });
    }
  }

  /* One item of the list: its symbol, name and category; ``extra`` the distance from
     the chosen place and why it matched the typed text, when there are. */
  function browseItem(p, entry, name, props, key, open, extra) {
    var cfg = entry.cfg, c = categoryOf(cfg, props);
    extra = extra || {};
    var li = el("li");
    var b = el("button", "mapapp-browse-item");
    b.type = "button";
    b.dataset.key = key;
    b.appendChild(swatch(cfg.symbol, c ? c.color : cfg.color, cfg.geometry !== "Point",
                         cfg.geometry !== "Point" && !cfg.classes));
    var text = el("span", "mapapp-browse-text");
    text.appendChild(el("span", "mapapp-browse-name", name));
    if (c) text.appendChild(el("span", "mapapp-browse-category", c.label));
    if (extra.distance) text.appendChild(el("span", "mapapp-browse-distance", extra.distance));
    if (extra.matched) {
      text.appendChild(el("span", "mapapp-browse-matched", extra.matched.label +
        (p.i18n.lang === "fr" ? " : " : ": ") + extra.matched.text));
    }
    b.appendChild(text);
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      var find = function () { return p.panel.querySelector('[data-key="' + CSS.escape(key) + '"]') || p.browse.name; };
      open(b, backButton(p.map, find, { center: p.map.getCenter(), zoom: p.map.getZoom() }));
    });
    li.appendChild(b);
    p.browse.list.appendChild(li);
  }

  /* A large layer: the server lists the features in view (OGC API items with a bbox). */
  function browseRemote(p, entry) {
    var i18n = p.i18n, map = p.map, cfg = entry.cfg;
    var url = p.options.browse && p.options.browse.items;
    if (!url) { p.browse.count.textContent = i18n.noneInView; return; }
    var b = map.getBounds();
    var params = new URLSearchParams({ bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(5); }).join(","), limit: "50", f: "json" });
    var cat = p.browse.category.value;
    if (cat && cfg.categoryField) params.set(cfg.categoryField, cat);
    var typed = p.browse.name.value.trim().slice(0, 80);
    if (typed) {  /* the name and search fields, filtered by the server (OGC API, CQL2) */
      var pattern = "LIKE CASEI('%" + typed.replace(/'/g, "''").replace(/[%_\\]/g, "\\$&") + "%')";
      params.set("filter-lang", "cql2-text");
      params.set("filter", [cfg.labelField].concat((cfg.search || {}).fields || []).map(function (f) {
        return "CASEI(" + f + ") " + pattern;
      }).join(" OR "));
    }
    var token = p.browseToken = (p.browseToken || 0) + 1;
    p.browse.count.textContent = i18n.loading;
    var asks = [fetchJSON(url.replace("{name}", cfg.name) + "?" + params.toString())];
    var atCommune = communeLevelInView(entry, b, params);
    if (atCommune) asks.push(fetchJSON(url.replace("{name}", cfg.name) + "?" + atCommune.toString()));
    Promise.all(asks).then(function (answers) {
      if (token !== p.browseToken) return;
      var active = document.activeElement;
      var key = active && p.browse.list.contains(active) && active.dataset ? active.dataset.key : null;
      p.browse.list.textContent = "";
      /* the features in view and those of the commune badges in view, as one answer */
      var res = { numberMatched: 0, features: [] };
      answers.forEach(function (one) {
        res.numberMatched += one.numberMatched !== undefined ? one.numberMatched : one.features.length;
        res.features = res.features.concat(one.features);
      });
      var total = res.numberMatched !== undefined ? res.numberMatched : res.features.length;
      var q = normalise(typed), sent = res.features;
      if (q) {  /* the server matched the raw text; "no section confirmed" is no match */
        sent = sent.filter(function (f) {
          var props = f.properties || {}, label = props[cfg.labelField] || f.id;
          return normalise(label).indexOf(q) !== -1 || matchedField(cfg, props, label, q);
        });
        total -= res.features.length - sent.length;
      }
      p.browse.count.textContent = total ? tr(i18n, "inView", { n: total.toLocaleString(i18n.locale) }) : i18n.noneInView;
      var origin = p.browseOrder === "near" ? browseOrigin(p) : null;
      var dist = function (f) {
        var c = f.geometry && f.geometry.coordinates;
        return (f.properties || {}).precision === "commune" || !c ? null : origin.distanceTo([c[1], c[0]]);
      };
      var features = sent.slice();
      if (origin) {  /* the page the server sent, nearest first */
        features.sort(function (a, b) {
          var da = dist(a), db = dist(b);
          return (da === null) - (db === null) || (da || 0) - (db || 0);
        });
      }
      if (!total) widenButton(p, entry);
      features.forEach(function (feature) {
        var props = feature.properties || {}, label = props[cfg.labelField] || feature.id;
        browseItem(p, entry, label, props, cfg.name + ":" + feature.id,
          function (from, back) { openDetached(map, cfg, feature, from, back, entry); },
          { distance: origin ? itemDistance(p, dist(feature)) : null,
            matched: matchedField(cfg, props, label, q) });
      });
      if (total > features.length) {
        p.browse.more.textContent = tr(i18n, "moreInView", { n: (total - features.length).toLocaleString(i18n.locale) });
      }
      if (key) refocusBrowseItem(p, key);
    }).catch(function () { p.browse.count.textContent = i18n.loadError + " " + cfg.title; });
  }

  /* The features of a large layer located at commune level only have no geometry in
     the OGC API, so its bbox never lists them: they are asked by the communes whose
     badge is in view (the same name and category filters), or null when none is. */
  function communeLevelInView(entry, bounds, params) {
    var codes = Object.keys(entry.badges || {}).filter(function (code) {
      var at = entry.badges[code];
      return bounds.contains([at.lat, at.lng]);
    });
    if (!codes.length) return null;
    var asked = new URLSearchParams(params);
    asked.delete("bbox");
    var where = "precision = 'commune' AND commune_code IN (" + codes.map(function (code) {
      return "'" + code.replace(/'/g, "''") + "'";
    }).join(", ") + ")";
    var named = params.get("filter");
    asked.set("filter-lang", "cql2-text");
    asked.set("filter", named ? "(" + named + ") AND " + where : where);
    return asked;
  }

  /* Narrow maps get bottom sheets; the class follows the map's own width. */
  function watchWidth(map) {
    var container = map.getContainer();
    function check() {
      var size = map.getSize();
      container.classList.toggle("mapapp-narrow", size.x < NARROW);
      container.classList.toggle("mapapp-compact", size.x < COMPACT);
      container.style.setProperty("--mapapp-h", size.y + "px");
    }
    check();
    map.on("resize", check);
  }

  /* Controls added once every layer is configured. */
  /* Leaflet names its zoom buttons in English: name them in the page language. */
  function nameZoomButtons(map, i18n) {
    var zoom = map.zoomControl;
    if (!zoom || !zoom._zoomInButton) return;
    [[zoom._zoomInButton, i18n.zoomIn], [zoom._zoomOutButton, i18n.zoomOut]].forEach(function (b) {
      if (!b[1]) return;
      b[0].title = b[1];
      b[0].setAttribute("aria-label", b[1]);
    });
  }

  mapapp.finish = function (map, options) {
    var s = state(map);
    options = options || {};
    var i18n = Object.assign({}, mapapp.defaultI18n, options.i18n || {});
    s.i18n = i18n;
    s.options = options;
    var container = map.getContainer();
    /* Controls first in the tab order (before the map's own focus stop). */
    container.insertBefore(map._controlContainer, container.firstChild);
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", i18n.mapLabel || i18n.layers);
    watchWidth(map);
    cardFocus(map);
    nameZoomButtons(map, i18n);
    if (options.search) searchControl(map, s, i18n, options);
    if (options.reset || options.fullscreen || options.locate) toolsControl(map, s, i18n, options);
    var bar = el("div", "mapapp-bar leaflet-control");
    control(map, "topright", function () { return bar; }, true);
    panelsControl(map, s, i18n, options, bar);
    if (options.legend || options.layerControl !== false) layersControl(map, s, i18n, options, bar);
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    mapapp.contribute = options.contribute || null;
    if (mapapp.contribute) proposeControl(map, mapapp.contribute);
    var credit = container.parentNode && container.parentNode.querySelector(".embed-credit");
    if (credit) fullMapControl(map, s, credit);
    compactAttribution(map, i18n);
    if (options.placeContext) pressToAsk(map, s);
    map.on("moveend overlayadd overlayremove", function () { mapapp.remember(map); });
    mapapp.whenReady(map, function () {
      openFeature(map, s, options.feature, options.featureIndex);
      container.setAttribute("data-mapapp-ready", "true");
      if (window.performance && performance.mark) performance.mark("mapapp-ready");
      map.fire("mapapp:ready");
    });
  };

})();
