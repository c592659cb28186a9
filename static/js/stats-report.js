// The report's chart of opens and clicks over time. The same figures are in a table on the page:
// without JavaScript (or Chart.js) nothing is lost.
(function () {
  "use strict";

  const canvas = document.getElementById("activity-chart");
  const source = document.getElementById("activity-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  const series = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const textColor = styles.getPropertyValue("--pico-color").trim() || "#333";
  const gridColor = styles.getPropertyValue("--pico-muted-border-color").trim() || "#ddd";

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [
        {
          label: canvas.dataset.opensLabel,
          data: series.opens,
          backgroundColor: "#1e88e5",
        },
        {
          label: canvas.dataset.clicksLabel,
          data: series.clicks,
          backgroundColor: "#e65100",
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { color: textColor } } },
      scales: {
        x: { ticks: { color: textColor, autoSkip: true, maxRotation: 0 }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { color: textColor, precision: 0 }, grid: { color: gridColor } },
      },
    },
  });
  canvas.dataset.ready = "true";
})();
