/* The dashboard's trend chart (Apache ECharts, vendored): the three rates month by month,
   from the JSON the page carries; the table under it holds the same figures. */
(function () {
  "use strict";
  function percent(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (!el || !source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(el, null, { renderer: "svg", locale: "ZH" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 32, bottom: 28 },
      xAxis: { type: "category", data: data.rows.map(function (r) { return r.month; }) },
      yAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor(v.min - 5)); }, max: 100,
               axisLabel: { formatter: "{value}%" } },
      series: Object.keys(data.names).map(function (name) {
        return { name: data.names[name], type: "line", connectNulls: true, symbolSize: 6,
                 data: data.rows.map(function (r) { return percent(r[name]); }) };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
