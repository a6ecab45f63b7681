// The language a reader chose (a switch, a link of the root page) is where _site/index.html sends them next time.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-lang]");
  if (link) { try { localStorage.setItem("course-lang", link.dataset.lang); } catch (e) {} }
});

// Search results: the summary under each result is taken from the lesson itself, not from the page's header
// buttons or the run box (Sphinx reads the whole [role=main], which this theme's header is part of).
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  var htmlToText = Search.htmlToText;
  Search.htmlToText = function (htmlString, anchor) {
    var page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".bd-header-article, .onlyprint, .bd-sidebar-secondary, .prev-next-footer, .course-run")
      .forEach(function (element) { element.remove(); });
    return htmlToText(page.documentElement.outerHTML, anchor);
  };
});
