/*
 * report.js — renders the strata HTML report from the summary inlined in the page
 * (#strata-summary) and the language's label table (#strata-meta, built by report.c from
 * st_label). It owns only presentation: every number shown comes from the summary.
 *
 * Sections: SECTIONS below is the table of contents. A section renders only when its key is
 * in the summary; adding one (churn, clv, clusters, cohorts, funnel, migration, ...) is one
 * render function plus one row. Names come from the label table (data keys, zh/en) or from
 * UI (section titles and phrases); profile values stay English keys in the data.
 *
 * Self-check: after rendering, <body> gets data-charts, data-charts-ok, data-charts-empty and
 * data-report-ready, from each chart's getOption() series data and its drawn SVG, so the
 * headless browser test can tell a drawn chart from an empty box. Errors go to the recorder
 * the template installs first (data-script-errors on <html>).
 */
(function () {
  'use strict';

  var UI = {
    en: {
      title: 'Customer value report',
      overview: 'Overview',
      inputs: 'Inputs',
      tiers: 'Tier pyramid',
      tiers_note: 'Bar length = share of persons; labels show the share of persons and of revenue.',
      rfm_heatmap: 'Recency × frequency',
      rfm_heatmap_note: 'Colour = average monetary of the persons in the cell; 5 = most recent / most frequent.',
      pareto: 'Revenue concentration (Pareto)',
      pareto_note: 'Cumulative share of revenue against the share of persons, highest value first.',
      persons_ranked: 'Share of persons (highest value first)',
      cumulative_revenue: 'Cumulative share of revenue',
      equal_share: 'Equal shares',
      top: 'Top',
      top_persons: 'Top share of persons',
      segments: 'RFM segments',
      class8: 'Eight RFM classes',
      distributions: 'Distributions',
      quality: 'Data quality',
      files: 'Files read',
      reasons: 'Rows rejected or repaired, by reason',
      outliers: 'Amount outliers',
      identity: 'Identity resolution',
      file: 'File',
      path: 'Path',
      rows: 'Rows',
      bytes: 'Bytes',
      reason: 'Reason',
      count: 'Count',
      kind: 'Kind',
      value_score_range: 'Value score',
      generated_at: 'Generated',
      currency: 'Currency',
      no_data: 'No data.',
      file_orders: 'Orders',
      file_events: 'Events',
      file_users: 'Users',
      file_identities: 'Identities',
      footer: 'Made by strata {v} with Apache ECharts {e}. Self-contained: opens offline.'
    },
    zh: {
      title: '用户价值分层报告',
      overview: '概览',
      inputs: '输入文件',
      tiers: '价值金字塔',
      tiers_note: '条形长度 = 人数占比；标签显示人数占比与营收占比。',
      rfm_heatmap: '最近消费 × 消费频次',
      rfm_heatmap_note: '颜色 = 格内用户的平均消费金额；5 = 最近 / 最频繁。',
      pareto: '营收集中度(帕累托)',
      pareto_note: '按价值从高到低排序，累计营收占比对应人数占比。',
      persons_ranked: '人数占比(价值从高到低)',
      cumulative_revenue: '累计营收占比',
      equal_share: '均匀分布',
      top: '前',
      top_persons: '头部人数占比',
      segments: 'RFM 分群',
      class8: 'RFM 八大类',
      distributions: '分布',
      quality: '数据质量',
      files: '读取的文件',
      reasons: '按原因统计的拒收与修复行',
      outliers: '金额异常值',
      identity: '身份识别(ID 合并)',
      file: '文件',
      path: '路径',
      rows: '行数',
      bytes: '字节',
      reason: '原因',
      count: '数量',
      kind: '类型',
      value_score_range: '价值分',
      generated_at: '生成时间',
      currency: '币种',
      no_data: '无数据。',
      file_orders: '订单',
      file_events: '行为事件',
      file_users: '用户',
      file_identities: '身份关联',
      footer: '由 strata {v} 与 Apache ECharts {e} 生成。单文件报告，可离线打开。'
    }
  };

  var summary = readJson('strata-summary') || {};
  var meta = readJson('strata-meta') || {};
  var lang = meta.lang === 'zh' ? 'zh' : 'en';
  var labels = meta.labels || {};
  var locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
  var palette = ['#2f6fb3', '#e07b39', '#3a9d5d', '#c8453c', '#8360c3', '#2a9fa8', '#b5862a',
                 '#d45d9b', '#6b7b8c', '#7fa63b', '#4e5fb0', '#a0522d'];
  var charts = [];
  var FONT = 'system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", ' +
    '"PingFang SC", "Microsoft YaHei", sans-serif';

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  /* Display name: data keys through the label table, page words through UI. */
  function L(key) {
    if (Object.prototype.hasOwnProperty.call(labels, key)) return labels[key];
    if (Object.prototype.hasOwnProperty.call(UI[lang], key)) return UI[lang][key];
    if (Object.prototype.hasOwnProperty.call(UI.en, key)) return UI.en[key];
    return String(key);
  }

  function recordError(where, err) {
    var text = where + ': ' + (err && err.message ? err.message : String(err));
    if (window.__strataError) window.__strataError(text);
    if (window.console) console.error(text, err);
  }

  /* ---- formatting ---- */
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function fmtInt(v) { return num(v) ? Math.round(v).toLocaleString(locale) : '–'; }
  function fmtNum(v, digits) {
    return num(v) ? v.toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : '–';
  }
  function fmtPct(v, digits) {
    return num(v) ? (v * 100).toFixed(digits === undefined ? 1 : digits) + '%' : '–';
  }
  function fmtMoney(v) {
    if (!num(v)) return '–';
    var cur = typeof summary.currency === 'string' ? summary.currency : '';
    var digits = Math.abs(v) >= 1000 ? 0 : 2;
    if (/^[A-Z]{3}$/.test(cur)) {
      try {
        return v.toLocaleString(locale, { style: 'currency', currency: cur,
          maximumFractionDigits: digits, minimumFractionDigits: digits });
      } catch (e) { /* unknown code: fall through to a plain number */ }
    }
    return fmtNum(v, digits) + (cur ? ' ' + cur : '');
  }
  function fmtShort(v) {
    if (!num(v)) return '';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
    return v.toFixed(a >= 100 ? 0 : 1);
  }

  /* ---- DOM: text only through textContent, so no data string can become markup ---- */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs.hasOwnProperty(k)) node.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return node;
  }

  /* columns: [{title, get(row) -> text, cls}] */
  function table(rows, columns) {
    var head = el('tr', null, columns.map(function (c) {
      return el('th', c.cls ? { 'class': c.cls } : null, [c.title]);
    }));
    var body = rows.map(function (r) {
      return el('tr', null, columns.map(function (c) {
        return el('td', c.cls ? { 'class': c.cls } : null, [c.get(r)]);
      }));
    });
    return el('div', { 'class': 'scroll' }, [el('table', null, [el('thead', null, [head]),
      el('tbody', null, body)])]);
  }

  function facts(obj, keys, format) {
    var items = [];
    keys.forEach(function (k) {
      if (obj[k] === undefined || obj[k] === null) return;
      items.push(el('dt', null, [L(k)]));
      items.push(el('dd', null, [format(k, obj[k])]));
    });
    return el('dl', { 'class': 'facts' }, items);
  }

  function chart(parent, option, cls) {
    var box = el('div', { 'class': 'chart' + (cls ? ' ' + cls : '') });
    parent.appendChild(box);
    /* The canvas that ECharts measures text with needs a real family ('inherit' is not one),
     * or labels overlap; this is the CSS body family. */
    var base = { animation: false, color: palette, textStyle: { fontFamily: FONT } };
    for (var k in base) if (!option.hasOwnProperty(k)) option[k] = base[k];
    var instance = echarts.init(box, null, { renderer: 'svg' });
    instance.setOption(option);
    charts.push({ box: box, chart: instance });
    return instance;
  }

  function nonEmpty(v) {
    if (v === null || v === undefined) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.keys(v).length > 0;
    return true;
  }

  /* ---- sections ---- */

  function renderOverview(counts, body) {
    var keys = ['persons', 'buyers', 'prospects', 'orders', 'order_rows', 'revenue', 'events'];
    body.appendChild(el('div', { 'class': 'kpis' }, keys.filter(function (k) {
      return num(counts[k]) && !(k === 'events' && counts[k] === 0);
    }).map(function (k) {
      var v = k === 'revenue' ? fmtMoney(counts[k]) : fmtInt(counts[k]);
      return el('div', { 'class': 'kpi' }, [el('div', { 'class': 'v' }, [v]),
        el('div', { 'class': 'k' }, [L(k)])]);
    })));
    if (nonEmpty(summary.inputs)) {
      body.appendChild(el('h3', null, [L('inputs')]));
      body.appendChild(table(summary.inputs, [
        { title: L('file'), get: function (r) { return L('file_' + r.kind); }, cls: 'text' },
        { title: L('path'), get: function (r) { return r.path; }, cls: 'wrap' },
        { title: L('rows'), get: function (r) { return fmtInt(r.rows); } },
        { title: L('bytes'), get: function (r) { return fmtInt(r.bytes); } },
        { title: 'SHA-256', get: function (r) { return String(r.sha256 || '').slice(0, 16); }, cls: 'text' }
      ]));
    }
  }

  function renderTiers(tiers, body) {
    var rows = tiers.slice().sort(function (a, b) { return String(a.tier) < String(b.tier) ? -1 : 1; });
    var max = Math.max.apply(null, rows.map(function (r) { return r.person_share || 0; }).concat([1e-9]));
    chart(body, {
      tooltip: { trigger: 'item', formatter: function (p) {
        var r = rows[p.dataIndex];
        return L(r.tier) + '<br>' + L('persons') + ': ' + fmtInt(r.persons) + ' (' + fmtPct(r.person_share) +
          ')<br>' + L('revenue') + ': ' + fmtMoney(r.revenue) + ' (' + fmtPct(r.revenue_share) + ')';
      } },
      grid: { left: 130, right: 20, top: 10, bottom: 10 },
      xAxis: { type: 'value', max: max, show: false },
      yAxis: { type: 'category', inverse: true, axisTick: { show: false },
        data: rows.map(function (r) { return L(r.tier); }) },
      series: [
        /* transparent offsets centre the bars, so the tiers read as a pyramid */
        { type: 'bar', stack: 'p', silent: true, itemStyle: { color: 'transparent' },
          tooltip: { show: false },
          data: rows.map(function (r) { return (max - (r.person_share || 0)) / 2; }) },
        { type: 'bar', stack: 'p', barCategoryGap: '12%', name: L('person_share'),
          label: { show: true, position: 'inside', color: '#fff', lineHeight: 16, formatter: function (p) {
            var r = rows[p.dataIndex];
            return L('persons') + ' ' + fmtPct(r.person_share) + '\n' + L('revenue') + ' ' + fmtPct(r.revenue_share);
          } },
          itemStyle: { color: function (p) { return ['#1d4f86', '#2f6fb3', '#5b93cc', '#8db6df', '#b9d1ea'][p.dataIndex % 5]; } },
          data: rows.map(function (r) { return r.person_share || 0; }) }
      ]
    });
    body.appendChild(table(rows, [
      { title: L('tier'), get: function (r) { return L(r.tier); } },
      { title: L('persons'), get: function (r) { return fmtInt(r.persons); } },
      { title: L('person_share'), get: function (r) { return fmtPct(r.person_share); } },
      { title: L('revenue'), get: function (r) { return fmtMoney(r.revenue); } },
      { title: L('revenue_share'), get: function (r) { return fmtPct(r.revenue_share); } },
      { title: L('value_score_range'), get: function (r) {
        return num(r.min_value_score) ? fmtNum(r.min_value_score, 1) + ' – ' + fmtNum(r.max_value_score, 1) : '–';
      } }
    ]));
  }

  function renderHeatmap(heat, body) {
    var cells = heat.cells || [];
    if (!cells.length) return body.appendChild(el('p', { 'class': 'empty' }, [L('no_data')]));
    var filled = cells.filter(function (c) { return c.persons > 0 && num(c.avg_monetary); });
    var values = filled.map(function (c) { return c.avg_monetary; });
    var scores = ['1', '2', '3', '4', '5'];
    chart(body, {
      tooltip: { formatter: function (p) {
        var c = p.data.cell;
        return 'R ' + c.r + ' × F ' + c.f + '<br>' + L('persons') + ': ' + fmtInt(c.persons) +
          '<br>' + L('avg_monetary') + ': ' + fmtMoney(c.avg_monetary);
      } },
      grid: { left: 70, right: 30, top: 10, bottom: 90 },
      xAxis: { type: 'category', data: scores, name: L('f_score'), nameLocation: 'middle', nameGap: 28, splitArea: { show: true } },
      yAxis: { type: 'category', data: scores, name: L('r_score'), nameLocation: 'middle', nameGap: 40, splitArea: { show: true } },
      visualMap: { min: values.length ? Math.min.apply(null, values) : 0,
        max: values.length ? Math.max.apply(null, values) : 1, calculable: true,
        orient: 'horizontal', left: 'center', bottom: 0, text: [L('avg_monetary'), ''],
        inRange: { color: ['#eef4fb', '#8db6df', '#2f6fb3', '#153a63'] } },
      series: [{ type: 'heatmap', name: L('avg_monetary'),
        label: { show: true, lineHeight: 16, formatter: function (p) {
          return fmtMoney(p.data.cell.avg_monetary) + '\n' + L('persons') + ' ' + fmtInt(p.data.cell.persons);
        } },
        data: cells.map(function (c) {
          var has = c.persons > 0 && num(c.avg_monetary);
          return { value: [c.f - 1, c.r - 1, has ? c.avg_monetary : '-'], cell: c };
        }) }]
    });
  }

  function renderPareto(pareto, body) {
    var curve = pareto.curve || [];
    var marks = pareto.top_shares || [];
    if (curve.length) {
      var series = [
        { type: 'line', name: L('cumulative_revenue'), showSymbol: false, areaStyle: { opacity: 0.12 }, data: curve },
        { type: 'line', name: L('equal_share'), showSymbol: false,
          lineStyle: { type: 'dashed', width: 1, color: '#9aa5b1' }, itemStyle: { color: '#9aa5b1' },
          data: [[0, 0], [1, 1]] }
      ];
      if (marks.length) series.push({ type: 'scatter', name: L('top_persons'), symbolSize: 9,
        itemStyle: { color: '#e07b39' },
        label: { show: true, position: 'right', formatter: function (p) {
          return L('top') + ' ' + fmtPct(p.data[0], 0) + ': ' + fmtPct(p.data[1]);
        } },
        data: marks.map(function (m) { return [m.top, m.revenue_share]; }) });
      chart(body, {
        tooltip: { trigger: 'axis', valueFormatter: function (v) { return fmtPct(v); } },
        legend: { top: 0 },
        grid: { left: 70, right: 30, top: 36, bottom: 50 },
        xAxis: { type: 'value', min: 0, max: 1, name: L('persons_ranked'), nameLocation: 'middle', nameGap: 30,
          axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
        yAxis: { type: 'value', min: 0, max: 1, name: L('cumulative_revenue'), nameLocation: 'middle', nameGap: 45,
          axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
        series: series
      });
    }
    if (marks.length) body.appendChild(table(marks, [
      { title: L('top_persons'), get: function (m) { return L('top') + ' ' + fmtPct(m.top, 0); } },
      { title: L('revenue_share'), get: function (m) { return fmtPct(m.revenue_share); } }
    ]));
  }

  /* Segment-like tables (segments, class8, and later clusters): rows keyed by `field`. */
  function groupTable(rows, field) {
    return table(rows, [
      { title: L(field), get: function (r) { return L(r[field]); }, cls: 'text' },
      { title: L('persons'), get: function (r) { return fmtInt(r.persons); } },
      { title: L('person_share'), get: function (r) { return fmtPct(r.person_share); } },
      { title: L('revenue'), get: function (r) { return fmtMoney(r.revenue); } },
      { title: L('revenue_share'), get: function (r) { return fmtPct(r.revenue_share); } },
      { title: L('avg_recency_days'), get: function (r) { return fmtNum(r.avg_recency_days, 1); } },
      { title: L('avg_frequency'), get: function (r) { return fmtNum(r.avg_frequency, 2); } },
      { title: L('avg_monetary'), get: function (r) { return fmtMoney(r.avg_monetary); } }
    ]);
  }

  function shareChart(rows, field, body) {
    chart(body, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtPct(v); } },
      legend: { top: 0 },
      grid: { left: 150, right: 30, top: 30, bottom: 20 },
      xAxis: { type: 'value', axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      yAxis: { type: 'category', inverse: true, data: rows.map(function (r) { return L(r[field]); }) },
      series: [
        { type: 'bar', name: L('person_share'), data: rows.map(function (r) { return r.person_share || 0; }) },
        { type: 'bar', name: L('revenue_share'), data: rows.map(function (r) { return r.revenue_share || 0; }) }
      ]
    }, rows.length > 8 ? null : 'small');
  }

  function renderSegments(rows, body) {
    shareChart(rows, 'segment', body);
    body.appendChild(groupTable(rows, 'segment'));
  }

  function renderClass8(rows, body) {
    shareChart(rows, 'class', body);
    body.appendChild(groupTable(rows, 'class'));
  }

  function renderDistributions(dists, body) {
    var grid = el('div', { 'class': 'grid2' });
    body.appendChild(grid);
    Object.keys(dists).forEach(function (name) {
      var rows = (dists[name] || []).filter(function (r) { return num(r.persons); });
      if (!rows.length) return;
      var cell = el('div', null, [el('h3', null, [L(name)])]);
      grid.appendChild(cell);
      chart(cell, {
        tooltip: { trigger: 'item', formatter: function (p) {
          return p.name + ': ' + fmtInt(p.value) + ' (' + fmtPct(p.percent / 100) + ')';
        } },
        series: [{ type: 'pie', radius: ['32%', '58%'], avoidLabelOverlap: true,
          label: { lineHeight: 15, overflow: 'break', width: 110, formatter: function (p) { return p.name + '\n' + fmtPct(p.percent / 100); } },
          data: rows.map(function (r) { return { name: L(r.key), value: r.persons }; }) }]
      }, 'small');
    });
  }

  function renderQuality(q, body) {
    var files = q.files || [];
    if (files.length) {
      body.appendChild(el('h3', null, [L('files')]));
      body.appendChild(table(files, [
        { title: L('file'), get: function (f) { return L('file_' + f.kind); }, cls: 'text' },
        { title: L('path'), get: function (f) { return f.path; }, cls: 'wrap' },
        { title: L('rows_read'), get: function (f) { return fmtInt(f.rows_read); } },
        { title: L('rows_loaded'), get: function (f) { return fmtInt(f.rows_loaded); } },
        { title: L('rejected'), get: function (f) { return fmtInt(f.rejected); } },
        { title: L('duplicates'), get: function (f) { return fmtInt(f.duplicates); } },
        { title: L('repaired'), get: function (f) { return fmtInt(f.repaired); } }
      ]));
      var reasons = [];
      files.forEach(function (f) {
        [['reasons', 'rejected'], ['repairs', 'repaired']].forEach(function (pair) {
          var map = f[pair[0]] || {};
          Object.keys(map).forEach(function (k) {
            reasons.push({ kind: f.kind, what: pair[1], reason: k, count: map[k] });
          });
        });
      });
      if (reasons.length) {
        body.appendChild(el('h3', null, [L('reasons')]));
        body.appendChild(table(reasons, [
          { title: L('file'), get: function (r) { return L('file_' + r.kind); }, cls: 'text' },
          { title: L('kind'), get: function (r) { return L(r.what); }, cls: 'text' },
          { title: L('reason'), get: function (r) { return L(r.reason); }, cls: 'text' },
          { title: L('count'), get: function (r) { return fmtInt(r.count); } }
        ]));
      }
    }
    var cols = el('div', { 'class': 'grid2' });
    if (nonEmpty(q.outliers)) {
      cols.appendChild(el('div', null, [el('h3', null, [L('outliers')]),
        facts(q.outliers, ['policy', 'percentile', 'threshold', 'rows_above'], function (k, v) {
          if (k === 'policy') return L(v);
          if (k === 'threshold') return fmtMoney(v);
          if (k === 'percentile') return fmtNum(v, 3);
          return fmtInt(v);
        })]));
    }
    if (nonEmpty(q.identity) || num(q.excluded_after_as_of)) {
      var idn = {};
      var src = q.identity || {};
      for (var k in src) if (src.hasOwnProperty(k)) idn[k] = src[k];
      idn.excluded_after_as_of = q.excluded_after_as_of;
      cols.appendChild(el('div', null, [el('h3', null, [L('identity')]),
        facts(idn, ['links', 'ids', 'persons', 'merged_ids', 'overshared_identifiers',
          'excluded_after_as_of'], function (key, v) { return fmtInt(v); })]));
    }
    body.appendChild(cols);
  }

  /* The table of contents. key: the summary key that must be present; render(data, body). */
  var SECTIONS = [
    { key: 'counts', title: 'overview', render: renderOverview },
    { key: 'tiers', title: 'tiers', note: 'tiers_note', render: renderTiers },
    { key: 'rfm_heatmap', title: 'rfm_heatmap', note: 'rfm_heatmap_note', render: renderHeatmap },
    { key: 'pareto', title: 'pareto', note: 'pareto_note', render: renderPareto },
    { key: 'segments', title: 'segments', render: renderSegments },
    { key: 'class8', title: 'class8', render: renderClass8 },
    { key: 'distributions', title: 'distributions', render: renderDistributions },
    { key: 'quality', title: 'quality', render: renderQuality }
  ];

  function header(root) {
    var bits = [];
    if (summary.as_of) bits.push(L('as_of') + ' ' + summary.as_of);
    if (summary.generated_at) bits.push(L('generated_at') + ' ' + summary.generated_at);
    if (summary.currency) bits.push(L('currency') + ' ' + summary.currency);
    root.appendChild(el('header', { 'class': 'report-head' }, [
      el('h1', null, [L('title')]),
      el('p', { 'class': 'meta' }, bits.map(function (b) { return el('span', null, [b]); }))
    ]));
    document.title = 'strata · ' + L('title') + (summary.as_of ? ' · ' + summary.as_of : '');
  }

  /* Count charts whose every series has data and whose SVG was drawn. */
  function selfCheck(sectionsShown) {
    var ok = 0, empty = 0;
    charts.forEach(function (c) {
      var series = (c.chart.getOption() || {}).series || [];
      var hasData = series.length > 0 && series.every(function (s) {
        return Array.isArray(s.data) && s.data.length > 0;
      });
      var svg = c.box.querySelector('svg');
      var drawn = !!svg && svg.querySelectorAll('path, rect, text').length > 3;
      if (hasData && drawn) ok++; else empty++;
      c.box.setAttribute('data-chart-ok', hasData && drawn ? '1' : '0');
    });
    var body = document.body;
    body.setAttribute('data-charts', String(charts.length));
    body.setAttribute('data-charts-ok', String(ok));
    body.setAttribute('data-charts-empty', String(empty));
    body.setAttribute('data-sections', sectionsShown.join(' '));
    body.setAttribute('data-report-ready', '1');
  }

  function main() {
    var root = document.getElementById('report');
    root.textContent = '';
    header(root);
    var toc = el('nav', { 'class': 'toc' });
    root.appendChild(toc);
    var shown = [];
    SECTIONS.forEach(function (s) {
      if (!nonEmpty(summary[s.key])) return;
      var id = 'sec-' + s.key;
      var body = el('section', { 'class': 'card', id: id }, [el('h2', null, [L(s.title)])]);
      if (s.note) body.appendChild(el('p', { 'class': 'note' }, [L(s.note)]));
      root.appendChild(body);
      toc.appendChild(el('a', { href: '#' + id }, [L(s.title)]));
      try {
        s.render(summary[s.key], body);
        shown.push(s.key);
      } catch (err) {
        recordError('section ' + s.key, err);
      }
    });
    root.appendChild(el('footer', null, [L('footer').replace('{v}', meta.strata_version || '')
      .replace('{e}', echarts.version || '')]));
    window.addEventListener('resize', function () {
      charts.forEach(function (c) { c.chart.resize(); });
    });
    selfCheck(shown);
  }

  try {
    main();
  } catch (err) {
    recordError('report', err);
  }
})();
