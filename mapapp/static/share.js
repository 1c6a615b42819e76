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
  var useView = document.getElementById("use-view");
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
    if (form.elements.basemap.value) params.set("basemap", form.elements.basemap.value);
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

  function update() {
    var url = embedUrl();
    var width = sizeOf(form.elements.width.value, sizes.defaults.width);
    var height = sizeOf(form.elements.height.value, sizes.defaults.height);
    code.value = '<iframe src="' + escapeAttr(url) + '" title="' + escapeAttr(form.dataset.title) +
      '" width="' + escapeAttr(width) + '" height="' + height +
      '" style="border:0" loading="lazy" allow="fullscreen; geolocation"' +
      ' referrerpolicy="strict-origin-when-cross-origin"></iframe>';
    if (preview.src !== url) preview.src = url;
    preview.height = height;
    link.href = url;
  }

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
  useView.hidden = false;
  useView.addEventListener("click", function () {
    try {
      var params = new URLSearchParams(preview.contentWindow.location.search);
      if (params.get("center")) form.elements.center.value = params.get("center");
      if (params.get("zoom")) form.elements.zoom.value = params.get("zoom");
      update();
    } catch (e) { /* the preview is same-origin; nothing to do otherwise */ }
  });
})();
