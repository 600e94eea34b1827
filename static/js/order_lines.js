// "Add a line" on the order form: add an empty row in the page instead of sending the form back to the server.
// Without JavaScript the same button is a submit button and the server shows the form again with one more row.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-line]").forEach(function (button) {
    var form = button.form;
    var total = form.querySelector("input[name='lines-TOTAL_FORMS']");
    var max = form.querySelector("input[name='lines-MAX_NUM_FORMS']");
    var template = form.querySelector("#order-line-template");
    var rows = form.querySelector("#order-line-rows");
    if (!total || !template || !rows) {
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) {
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = rows.lastElementChild.querySelector("select, input");
      if (first) {
        first.focus();
      }
    });
  });
})();
