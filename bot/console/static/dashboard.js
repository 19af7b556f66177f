/* The dashboard's charts (Chart.js, vendored), from the figures embedded in the page. */
"use strict";
(function () {
  var node = document.getElementById("dashboard-data");
  if (!node || !window.Chart) return;
  var d = JSON.parse(node.textContent);
  var green = "#2e7d32", light = "#81c784";
  new window.Chart(document.getElementById("chart-weeks"), {
    type: "bar",
    data: {labels: d.weeks, datasets: [
      {label: "pledges made", data: d.pledges, backgroundColor: green},
      {label: "households pledging for the first time", data: d.households, backgroundColor: light}
    ]},
    options: {animation: false, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
  });
  new window.Chart(document.getElementById("chart-retention"), {
    type: "line",
    data: {labels: d.retention_weeks.map(function (w) { return "week " + w; }), datasets: [
      {label: "% of pledges checked in as done", data: d.retention, borderColor: green, backgroundColor: light, spanGaps: false}
    ]},
    options: {animation: false, scales: {y: {beginAtZero: true, max: 100}}}
  });
  document.body.setAttribute("data-charts", "ready");
})();
