/* Reports: draws the dashboard's charts from the data the page passes with json_script
   (the CSP forbids inline scripts), and follows the progress of a big export. */
(function () {
  "use strict";

  const PALETTE = ["#0b5cad", "#2e8540", "#b35c00", "#7a3db8", "#c0392b", "#16808a"];

  function drawCharts() {
    const source = document.getElementById("report-charts");
    if (!source || typeof window.Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const series = data[canvas.dataset.chart];
      if (!series) return;
      let config;
      if (canvas.dataset.kind === "flow") {
        config = {
          type: "bar",
          data: {
            labels: series.labels,
            datasets: [
              { label: series.opened_label, data: series.opened, backgroundColor: PALETTE[0] },
              { label: series.resolved_label, data: series.resolved, backgroundColor: PALETTE[1] },
            ],
          },
        };
      } else {
        const line = canvas.dataset.kind === "line";
        config = {
          type: line ? "line" : "bar",
          data: {
            labels: series.labels,
            datasets: [{
              label: series.label,
              data: series.values,
              borderColor: PALETTE[0],
              backgroundColor: line ? "rgba(11, 92, 173, 0.15)" : PALETTE[0],
              fill: line,
              tension: 0.2,
            }],
          },
        };
      }
      config.options = {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: canvas.dataset.kind === "flow" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      };
      if (series.percent) config.options.scales.y.max = 100;
      canvas.chart = new window.Chart(canvas, config);
      canvas.dataset.drawn = "true";
    });
  }

  // A report page: one chart beside the table, from the rows the table shows.
  function drawReportChart() {
    const source = document.getElementById("report-chart");
    const canvas = document.querySelector("canvas[data-report-chart]");
    if (!source || !canvas || typeof window.Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    const stacked = data.kind === "stacked";
    canvas.chart = new window.Chart(canvas, {
      type: data.kind === "line" ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (series, index) {
          const colour = PALETTE[index % PALETTE.length];
          return { label: series.label, data: series.values, backgroundColor: colour, borderColor: colour };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: data.datasets.length > 1 } },
        scales: {
          x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 45 } },
          y: data.percent
            ? { stacked: stacked, beginAtZero: true, max: 100 }
            : { stacked: stacked, beginAtZero: true },
        },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function followExport() {
    const panel = document.querySelector("[data-progress-url]");
    if (!panel) return;
    const bar = panel.querySelector("progress");
    const status = panel.querySelector("[data-role=status]");
    const link = panel.querySelector("[data-role=download]");
    function poll() {
      // A poll, not activity: it must not keep an idle session alive (config.middleware).
      fetch(panel.dataset.progressUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Presidio-Poll": "1" },
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) return;
          bar.value = job.percent;
          bar.textContent = job.percent + "%";
          status.textContent = job.status_label + " · " + job.rows_done + " / " + job.rows_total;
          if (job.status === "ready") {
            link.hidden = false;
          } else if (job.status === "pending" || job.status === "running") {
            window.setTimeout(poll, 2000);
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    drawReportChart();
    followExport();
  });
})();
