// The SMS report's chart over time: sent, delivered, failed, STOP replies and clicks. The same
// figures are in a table on the page: without JavaScript (or Chart.js) nothing is lost.
(function () {
  "use strict";

  const canvas = document.getElementById("sms-activity-chart");
  const source = document.getElementById("sms-activity-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  const series = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const textColor = styles.getPropertyValue("--pico-color").trim() || "#333";
  const gridColor = styles.getPropertyValue("--pico-muted-border-color").trim() || "#ddd";
  const colors = { sent: "#1e88e5", delivered: "#43a047", failed: "#e53935", stops: "#8e24aa", clicks: "#e65100" };

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: Object.keys(colors).map((name) => ({
        label: canvas.dataset[`${name}Label`],
        data: series[name],
        backgroundColor: colors[name],
      })),
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
