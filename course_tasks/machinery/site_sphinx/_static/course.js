// The language a reader chose (a switch, a link of the root page) is where _site/index.html sends them next time.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-lang]");
  if (link) { try { localStorage.setItem("course-lang", link.dataset.lang); } catch (e) {} }
});
