/* The year report (templates/dashboards/report.html) printed with the browser's Ctrl+P:
   its footer says "第 1 页 共 2 页" and the day it was printed, in the page's language.
   print.css numbers the pages without words ("1 / 2") for a browser without this script;
   the words and the date come from the page (translated there) and go into an @page
   margin box here, as CSS cannot read them from the page itself. A constructed style
   sheet, as the site's CSP allows no inline style. */
(function () {
  "use strict";
  var report = document.querySelector(".year-report");
  if (!report || !("adoptedStyleSheets" in document)) { return; }
  var sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);

  function cssString(text) {
    return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, " ") + '"';
  }

  /* "Page {page} of {pages}" → "Page " counter(page) " of " counter(pages) */
  function pageCounter(template) {
    return template.split(/(\{pages?\})/).filter(Boolean).map(function (part) {
      if (part === "{page}") { return "counter(page)"; }
      if (part === "{pages}") { return "counter(pages)"; }
      return cssString(part);
    }).join(" ");
  }

  function footer() {
    var now = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
                                      { dateStyle: "long", timeStyle: "short" }).format(new Date());
    sheet.replaceSync(
      "@media print { @page report {" +
      " @bottom-center { content: " + pageCounter(report.dataset.pageFooter) + "; }" +
      " @bottom-right { content: " + cssString(report.dataset.printed.replace("{date}", now)) + "; }" +
      " } }"
    );
  }

  footer();
  window.addEventListener("beforeprint", footer);  // a tab kept open prints today's date
  var button = report.querySelector(".report-print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
