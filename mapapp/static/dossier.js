/* The printable dossier: a button opens the browser's print dialog (save as PDF
 * there); ?print=1 opens it once the page is drawn. */
(function () {
  "use strict";
  var button = document.getElementById("print-dossier");
  if (button) button.addEventListener("click", function () { window.print(); });
  if (new URLSearchParams(window.location.search).get("print") === "1") {
    window.addEventListener("load", function () { window.print(); });
  }
})();
