// The delivery-note form (§5.5.3, §5.6.1): the vehicle list offers only the chosen carrier's vehicles.
// Without JavaScript every usable vehicle is listed and the server refuses another carrier's, beside the field.
(function () {
  "use strict";
  const form = document.getElementById("note-form");
  if (!form) return;
  const carrier = form.querySelector("select[name=carrier]");
  const vehicle = form.querySelector("select[name=vehicle]");
  if (!carrier || !vehicle) return;
  function filterVehicles() {
    Array.prototype.forEach.call(vehicle.options, function (option) {
      const owner = option.getAttribute("data-carrier");
      const show = !owner || owner === carrier.value;
      option.hidden = !show;
      option.disabled = !show;
      if (!show && option.selected) vehicle.value = "";
    });
  }
  carrier.addEventListener("change", filterVehicles);
  filterVehicles();
})();
