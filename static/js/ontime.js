// The on-time delivery rate chart (§5.5.2): stacked bars of the due batches by outcome, and the rate as a
// line on its own axis. Data and every label come from the page ({{ data|json_script:"ontime-data" }}).
(function () {
  "use strict";
  const source = document.getElementById("ontime-data");
  const canvas = document.getElementById("ontime-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const text = data.text;
  const labels = data.labels.map(function (label, i) {
    return data.provisional[i] ? label + " (" + text.provisional + ")" : label;
  });

  new Chart(canvas, {
    data: {
      labels: labels,
      datasets: [
        {
          type: "line",
          label: text.rate,
          data: data.rate, // null where nothing was due: a gap, not 0 or 100
          yAxisID: "rate",
          borderColor: "#0d6efd",
          backgroundColor: "#0d6efd",
          spanGaps: false,
          tension: 0.2,
          order: 0,
          segment: {
            // The provisional month is drawn dashed.
            borderDash: function (ctx) { return data.provisional[ctx.p1DataIndex] ? [6, 4] : undefined; },
          },
        },
        { type: "bar", label: text.on_time, data: data.on_time, yAxisID: "batches", stack: "due", backgroundColor: "#a3cfbb", order: 1 },
        { type: "bar", label: text.delivered_late, data: data.delivered_late, yAxisID: "batches", stack: "due", backgroundColor: "#ffda6a", order: 1 },
        { type: "bar", label: text.not_delivered, data: data.not_delivered, yAxisID: "batches", stack: "due", backgroundColor: "#f1aeb5", order: 1 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        rate: { position: "left", min: 0, max: 100, title: { display: true, text: text.rate } },
        batches: { position: "right", stacked: true, beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: text.batches } },
        x: { stacked: true },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (ctx) {
              if (ctx.dataset.yAxisID === "rate") {
                return ctx.dataset.label + ": " + (ctx.raw === null ? text.no_rate : ctx.raw + "%");
              }
              return ctx.dataset.label + ": " + ctx.raw;
            },
          },
        },
      },
    },
  });
})();
