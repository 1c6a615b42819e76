/* The planner's view of one contribution: the current place (grey) and the proposed
   one (red) on a small Leaflet map over the site's base map; without a script the
   server's drawing stays. */
(function () {
  "use strict";
  var box = document.getElementById("compare-map");
  if (!box || !window.L) return;
  function point(value) {
    if (!value) return null;
    var p = value.split(",").map(Number);
    return L.latLng(p[0], p[1]);
  }
  var before = point(box.getAttribute("data-before"));
  var after = point(box.getAttribute("data-after"));
  var points = [before, after].filter(Boolean);
  if (!points.length) return;
  box.textContent = "";
  var map = L.map(box, { zoomControl: false, attributionControl: false, keyboard: false,
                         dragging: false, scrollWheelZoom: false, doubleClickZoom: false,
                         boxZoom: false, touchZoom: false });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  if (before) L.circleMarker(before, { radius: 8, color: "#374151", fillColor: "#6b7280", fillOpacity: 1 }).addTo(map);
  if (after) L.circleMarker(after, { radius: 8, color: "#7f1d1d", fillColor: "#c81e1e", fillOpacity: 1 }).addTo(map);
  if (points.length === 1) map.setView(points[0], 16);
  else map.fitBounds(L.latLngBounds(points), { padding: [30, 30], maxZoom: 17 });
})();

/* The public form: move the map until the cross is on the place, then put the point
   there (keyboard: the map takes the arrow keys and + / −; then the button). */
(function () {
  "use strict";
  var box = document.getElementById("c-map");
  if (!box || !window.L) return;
  var field = document.getElementById("c-map-field");
  field.hidden = false;
  var c = box.getAttribute("data-center").split(",").map(Number);
  var map = L.map(box, { zoomControl: true, scrollWheelZoom: false })
    .setView([c[0], c[1]], Number(box.getAttribute("data-zoom")) || 14);
  var tiles = box.getAttribute("data-tiles");
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  var current = box.getAttribute("data-current");
  if (current) {  /* where the reported feature is now, in grey */
    L.circleMarker(current.split(",").map(Number), { radius: 7, color: "#374151", fillColor: "#6b7280", fillOpacity: 1, interactive: false }).addTo(map);
  }
  var lon = document.getElementById("c-lon"), lat = document.getElementById("c-lat");
  var precision = document.getElementById("c-precision");
  var status = document.getElementById("c-map-status");
  var marker = null;
  function show(latlng) {
    if (marker) marker.setLatLng(latlng);
    else marker = L.circleMarker(latlng, { radius: 8, color: "#7f1d1d", fillColor: "#c81e1e", fillOpacity: 1, interactive: false }).addTo(map);
  }
  if (lon.value && lat.value) show(L.latLng(Number(lat.value), Number(lon.value)));
  document.getElementById("c-map-use").addEventListener("click", function () {
    var at = map.getCenter();
    lat.value = at.lat.toFixed(6);
    lon.value = at.lng.toFixed(6);
    precision.value = "approximate";
    var chosen = document.querySelectorAll("input[name=place]");
    Array.prototype.forEach.call(chosen, function (r) { r.checked = false; });
    show(at);
    status.textContent = status.getAttribute("data-done").replace("{where}", lat.value + ", " + lon.value);
  });
})();
