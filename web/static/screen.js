/* The big screen (数据大屏): asks /web/screen/data.json every `data-refresh` seconds and
   redraws; draws the districts and streets from /web/screen/map.json (the directory's GeoJSON)
   with Apache ECharts, without map tiles. */
(function () {
  "use strict";
  var echarts = window.echarts;
  var state = { level: "street", metric: "received", data: null, geo: null };
  var charts = {};
  var LEVEL_NAMES = { district: "区", street: "街道" };
  var METRIC_NAMES = { received: "今日受理量", satisfaction: "满意率（近30天）" };
  var AXIS = { axisLabel: { color: "#9fb6d9" }, axisLine: { lineStyle: { color: "#2f5a96" } },
               splitLine: { lineStyle: { color: "#16325c" } } };

  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init(document.getElementById(id), null, { locale: "ZH" }); }
    return charts[id];
  }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function status(message) { text("status", message || ""); }

  function drawCounts(d) {
    text("received", d.received);
    text("open", d.open_tickets);
    text("overdue", d.overdue_tickets);
    text("supervised", d.supervised_tickets);
    text("as-of", d.as_of.slice(11, 19));
    text("day", d.day);
  }

  function bars(id, names, values, horizontal) {
    var category = Object.assign({ type: "category", data: names }, AXIS);
    var value = Object.assign({ type: "value", minInterval: 1 }, AXIS);
    chart(id).setOption({
      animation: false,
      grid: { left: horizontal ? 110 : 36, right: 16, top: 12, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: [{ type: "bar", data: values, itemStyle: { color: "#3fa7ff" }, barMaxWidth: 28 }]
    }, true);
  }

  function drawMap() {
    if (!state.geo || !state.data) { return; }
    var level = state.level, metric = state.metric;
    var features = state.geo.features.filter(function (f) { return f.properties.level === level; });
    var values = state.data.areas[level][metric];
    var series = features.map(function (f) {
      var v = values[f.properties.code];
      if (v === undefined) { v = metric === "received" ? 0 : null; }
      return { name: f.properties.code, label: f.properties.name,
               value: v === null ? null : (metric === "satisfaction" ? Math.round(v * 1000) / 10 : v) };
    });
    var numbers = series.map(function (s) { return s.value; }).filter(function (v) { return v !== null; });
    var names = {};
    features.forEach(function (f) { names[f.properties.code] = f.properties.name; });
    chart("map-chart").setOption({
      animation: false,
      tooltip: { formatter: function (p) {
        var v = p.value === null || isNaN(p.value) ? "—" : p.value + (metric === "satisfaction" ? "%" : " 件");
        return names[p.name] + "：" + v; } },
      visualMap: { min: metric === "satisfaction" ? Math.min.apply(null, numbers.concat([80])) : 0,
                   max: metric === "satisfaction" ? 100 : Math.max.apply(null, numbers.concat([1])),
                   left: 8, bottom: 8, calculable: true, textStyle: { color: "#9fb6d9" },
                   inRange: { color: metric === "satisfaction" ? ["#d9534f", "#f0ad4e", "#3fbf7f"] : ["#123a6b", "#2f8ce0", "#7fd3ff"] } },
      series: [{ type: "map", map: "hotline-" + level, nameProperty: "code", roam: false,
                 label: { show: true, color: "#e8f1ff", formatter: function (p) { return names[p.name]; } },
                 itemStyle: { borderColor: "#9fd8ff", borderWidth: 1, areaColor: "#123a6b" },
                 emphasis: { label: { color: "#fff" }, itemStyle: { areaColor: "#ffd166" } },
                 data: series }]
    }, true);
    text("map-level-name", LEVEL_NAMES[level]);
    text("map-metric-name", METRIC_NAMES[metric]);
  }

  function draw(d) {
    state.data = d;
    drawCounts(d);
    bars("channel-chart", d.by_channel.map(function (c) { return c.name; }),
         d.by_channel.map(function (c) { return c.received; }), true);
    bars("hour-chart", d.received_by_hour.map(function (_, h) { return h + "时"; }), d.received_by_hour, false);
    bars("category-chart", d.top_categories.map(function (c) { return c.category; }),
         d.top_categories.map(function (c) { return c.received; }), true);
    var list = document.getElementById("warnings");
    list.replaceChildren();
    d.warnings.forEach(function (w) {
      var item = document.createElement("li");
      item.textContent = w.area + " · " + w.category + "：本周 ";
      var n = document.createElement("span");
      n.className = "n";
      n.textContent = w.count;
      item.appendChild(n);
      item.appendChild(document.createTextNode(" 件（上周 " + w.previous + " 件）"));
      list.appendChild(item);
    });
    if (!d.warnings.length) {
      var none = document.createElement("li");
      none.textContent = "本周没有激增的诉求。";
      list.appendChild(none);
    }
    drawMap();
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location = "/web/login?expired=true"; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      });
  }

  function refresh() {
    return fetchJson("/web/screen/data.json").then(function (d) { status(""); draw(d); })
      .catch(function (e) { status("数据暂时无法更新（" + e.message + "），稍后自动重试。"); });
  }

  function choose(attribute, value) {
    state[attribute] = value;
    document.querySelectorAll("[data-" + attribute + "]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-" + attribute) === value));
    });
    drawMap();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-level]").forEach(function (b) {
      b.addEventListener("click", function () { choose("level", b.getAttribute("data-level")); });
    });
    document.querySelectorAll("[data-metric]").forEach(function (b) {
      b.addEventListener("click", function () { choose("metric", b.getAttribute("data-metric")); });
    });
    document.getElementById("fullscreen").addEventListener("click", function () {
      if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
    });
    fetchJson("/web/screen/map.json").then(function (geo) {
      ["district", "street"].forEach(function (level) {
        echarts.registerMap("hotline-" + level, { type: "FeatureCollection",
          features: geo.features.filter(function (f) { return f.properties.level === level; }) });
      });
      state.geo = geo;
      drawMap();
    }).catch(function (e) { status("地图边界无法读取（" + e.message + "）。"); });
    refresh();
    var seconds = Number(document.body.getAttribute("data-refresh")) || 30;
    window.setInterval(refresh, seconds * 1000);
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (id) { charts[id].resize(); });
    });
  });
})();
