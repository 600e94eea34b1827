// Small behaviours every page may use, kept out of the templates: the Content-Security-Policy allows no
// inline script or on…= attribute (issue 10).
(function () {
  "use strict";
  // <select data-submit-on-change>: choosing a value submits its form (the button next to it does the same
  // without JavaScript).
  document.addEventListener("change", function (event) {
    const field = event.target.closest ? event.target.closest("[data-submit-on-change]") : null;
    if (field && field.form) field.form.submit();
  });
  // <button data-print>: print the page.
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  // Open the tab named in the address (#quotations …), so links and redirects land where they point.
  if (location.hash && window.bootstrap) {
    const tabs = document.querySelectorAll('a[data-bs-toggle="tab"]');
    Array.prototype.forEach.call(tabs, function (tab) {
      if (tab.getAttribute("href") === location.hash) window.bootstrap.Tab.getOrCreateInstance(tab).show();
    });
  }
})();
