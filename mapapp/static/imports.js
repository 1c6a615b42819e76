/* The import wizard, enhanced: the preview of a column follows the column chosen, and
 * the rest are plain forms that work without this script. */
(function () {
  "use strict";
  var samplesNode = document.getElementById("column-samples");
  var samples = samplesNode ? JSON.parse(samplesNode.textContent) : {};
  Array.prototype.forEach.call(document.querySelectorAll("select[data-preview]"), function (select) {
    select.addEventListener("change", function () {
      var cell = document.getElementById(select.getAttribute("data-preview"));
      cell.textContent = (samples[select.value] || []).join(" · ");
    });
  });
})();
