/* The embed builder: keeps the preview and the <iframe> snippet in step with the form. */
(function () {
  "use strict";
  var form = document.getElementById("share-form");
  if (!form) return;
  var preview = document.getElementById("share-preview");
  var code = document.getElementById("share-code");
  var link = document.getElementById("share-link");
  var copy = document.getElementById("copy-code");
  var status = document.getElementById("copy-status");
  var base = form.dataset.embed;
  /* The server's defaults of every option (maps/options.py), as query values. */
  var defaults = JSON.parse(form.dataset.defaults);
  var FLAGS = ["legend", "search", "fullscreen", "scrollzoom"];

  function embedUrl() {
    var params = new URLSearchParams();
    var boxes = form.querySelectorAll('input[name="layer"]');
    var chosen = Array.prototype.filter.call(boxes, function (b) { return b.checked; })
      .map(function (b) { return b.value; });
    if (chosen.length !== boxes.length) params.set("layers", chosen.join(","));
    var center = form.elements.center.value, zoom = form.elements.zoom.value;
    if (center !== defaults.center) params.set("center", center);
    if (zoom !== defaults.zoom) params.set("zoom", zoom);
    params.set("lang", form.elements.lang.value);
    FLAGS.forEach(function (name) {
      var value = form.elements[name].checked ? "1" : "0";
      if (value !== defaults[name]) params.set(name, value);
    });
    var basemap = form.elements.basemap;  /* offered when the server has base maps */
    if (basemap && basemap.value) params.set("basemap", basemap.value);
    return base + "?" + params.toString();
  }

  function escapeAttr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  /* The iframe's size as the server accepts it (maps/options.py parse_size): whole
     pixels or a percentage within limits, else the default; never the typed text. */
  var sizes = JSON.parse(form.dataset.sizes);
  function sizeOf(raw, fallback) {
    var match = /^\s*(\d{1,5})\s*(px|%)?\s*$/.exec(raw || "");
    if (!match) return fallback;
    var unit = match[2] || "px", value = parseInt(match[1], 10);
    var limits = sizes.limits[unit];
    if (value < limits[0] || value > limits[1]) return fallback;
    return unit === "%" ? value + "%" : String(value);
  }

  /* Refresh the snippet and the link; reload the preview unless the change came
     from the preview itself (the visitor panned it or toggled a layer there). */
  function update(fromPreview) {
    var url = embedUrl();
    var width = sizeOf(form.elements.width.value, sizes.defaults.width);
    var height = sizeOf(form.elements.height.value, sizes.defaults.height);
    var titles = JSON.parse(form.dataset.titles);  /* in the map's language */
    var title = titles[form.elements.lang.value] || titles.fr;
    code.value = '<iframe src="' + escapeAttr(url) + '" title="' + escapeAttr(title) +
      '" width="' + escapeAttr(width) + '" height="' + height +
      '" style="border:0" loading="lazy" allow="fullscreen; geolocation; clipboard-write"' +
      ' referrerpolicy="strict-origin-when-cross-origin"></iframe>';
    if (fromPreview !== true && preview.src !== url) preview.src = url;
    preview.height = height;
    link.href = url;
  }

  /* The preview is an embed of this server: follow its map as the visitor moves it. */
  function follow() {
    var inner;
    try { inner = preview.contentWindow.mapapp && preview.contentWindow.mapapp.map; } catch (e) { return; }
    if (!inner) return;
    function sync() {
      var c = inner.getCenter();
      form.elements.center.value = c.lat.toFixed(5) + "," + c.lng.toFixed(5);
      form.elements.zoom.value = String(inner.getZoom());
      var layers = inner._mapapp ? inner._mapapp.layers : {};
      Array.prototype.forEach.call(form.querySelectorAll('input[name="layer"]'), function (box) {
        if (layers[box.value]) box.checked = inner.hasLayer(layers[box.value].group);
      });
      update(true);
    }
    inner.on("moveend overlayadd overlayremove", sync);
  }
  preview.addEventListener("load", follow);
  follow();

  form.addEventListener("change", update);
  form.addEventListener("input", function (e) {
    if (e.target.name === "width" || e.target.name === "height") update();
  });
  copy.hidden = false;
  copy.addEventListener("click", function () {
    code.select();
    var done = function () { status.textContent = copy.dataset.done || "✓"; };
    if (navigator.clipboard) navigator.clipboard.writeText(code.value).then(done, function () {
      document.execCommand("copy"); done();
    });
    else { document.execCommand("copy"); done(); }
  });
})();
