/*
 * report.js — renders the strata HTML report from the summary inlined in the page
 * (#strata-summary) and the language's label table (#strata-meta, built by report.c from
 * st_label). It owns only presentation: every number shown comes from the summary.
 *
 * Sections: SECTIONS below is the table of contents. A section renders only when its key is
 * in the summary; adding one (cohorts, funnel, migration, ...) is one render function plus one
 * row. A model section (clv, churn, clusters) may be {"skipped": reason}: it then shows only
 * the reason, and each of its charts is left out when its part of the data is absent. Names
 * come from the label table (data keys, zh/en) or from UI (section titles and phrases);
 * profile values stay English keys in the data.
 *
 * Self-check: after rendering, <body> gets data-charts, data-charts-ok, data-charts-empty,
 * data-section-charts and data-report-ready, from each chart's getOption() series data and
 * its drawn SVG, so the headless browser test can tell a drawn chart from an empty box and
 * which section lost one. Errors go to the recorder the template installs first
 * (data-script-errors on <html>).
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
      model_skipped: 'Not computed:',
      yes: 'yes',
      no: 'no',
      clv_title: 'Customer lifetime value (BG/NBD + Gamma-Gamma)',
      clv_note: 'Purchases follow BG/NBD, order values Gamma-Gamma; CLV is the discounted value of the purchases expected in the months shown under the parameters.',
      parameters: 'Model parameters',
      model: 'Model',
      parameter: 'Parameter',
      estimate: 'Estimate',
      bgnbd: 'BG/NBD (purchases)',
      gamma_gamma: 'Gamma-Gamma (order value)',
      clv_options: 'Prediction',
      gg_skipped: 'Gamma-Gamma not fitted, so there is no CLV:',
      p_alive_hist: 'P(alive) distribution',
      clv_hist: 'CLV distribution',
      clv_hist_note: 'The last bar also holds the persons above the 99th percentile.',
      p_alive_heat: 'Mean P(alive) by time since the last purchase and repeat purchases',
      since_last: 'Time since the last purchase',
      repeat_purchases: 'Repeat purchases',
      outlier_warning: '{n} order rows with amounts {w} {t} carry {s} of the revenue, usually a sign of typing errors. Check them, or set clean.outliers: reject with clean.reject_above.',
      above: 'above',
      at_or_above: 'at or above',
      holdout_title: 'Holdout check: predicted vs actual purchases',
      holdout_note: 'Mean purchases per person in a holdout of {d}, by repeat purchases in the calibration period (as Fader, Hardie & Lee 2005, fig. 4). In total: actual {a}, predicted {p}.',
      mean_purchases: 'Purchases per person',
      unit_weeks: 'weeks',
      unit_days: 'days',
      churn_title: 'Churn prediction',
      churn_note: 'Features from the history before the cutoff; churned = no valid order in the horizon after it. Model measures are on the held-out test split.',
      train_rows: 'Persons trained on',
      split: 'Train / validation / test',
      model_comparison: 'Model comparison (test split)',
      chosen: 'chosen',
      confusion: 'Confusion matrix',
      confusion_note: '{m} at threshold {t}, test split.',
      actual_churned: 'Churned',
      actual_stayed: 'Stayed',
      pred_churned: 'Predicted churn',
      pred_stayed: 'Predicted stay',
      actual: 'Actual',
      calibration: 'Calibration: predicted vs observed churn rate per decile',
      mean_predicted: 'Mean predicted probability',
      observed_rate: 'Observed churn rate',
      perfect: 'Perfect calibration',
      top_features: 'Top features',
      importance_share: 'Share of importance',
      risk_by_tier: 'Churn risk now, by tier',
      risk_note: 'Every buyer scored with the chosen model as of the report date; each bar is one tier split into risk bands.',
      risk_low: 'Low risk',
      risk_medium: 'Medium risk',
      risk_high: 'High risk',
      all_persons: 'All',
      worth_saving: 'Persons most worth saving',
      worth_saving_note_clv: 'High churn risk, ranked by CLV.',
      worth_saving_note_monetary: 'High churn risk, ranked by monetary value.',
      no_high_risk: 'No person is at high risk.',
      clusters_title: 'Customer clusters (k-means)',
      clusters_note: 'k-means on standardized log features; k chosen by the silhouette score unless configured.',
      cluster_profiles: 'Cluster profiles',
      cluster: 'Cluster',
      mean_of: 'Mean {f}',
      silhouette_by_k: 'Silhouette by number of clusters (higher = better separated)',
      chosen_k: 'chosen k',
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
      model_skipped: '未计算：',
      yes: '是',
      no: '否',
      clv_title: '客户终身价值(BG/NBD + Gamma-Gamma)',
      clv_note: '购买次数用 BG/NBD 模型，客单价用 Gamma-Gamma 模型；CLV 为参数表中预测月数内预期购买的折现价值。',
      parameters: '模型参数',
      model: '模型',
      parameter: '参数',
      estimate: '估计值',
      bgnbd: 'BG/NBD(购买次数)',
      gamma_gamma: 'Gamma-Gamma(客单价)',
      clv_options: '预测设置',
      gg_skipped: '未拟合 Gamma-Gamma 模型，因此没有 CLV：',
      p_alive_hist: '存活概率 P(alive) 分布',
      clv_hist: 'CLV 分布',
      clv_hist_note: '最后一个柱子也包含高于99分位的用户。',
      p_alive_heat: '按距上次购买时间与重复购买次数的平均存活概率',
      since_last: '距上次购买时间',
      repeat_purchases: '重复购买次数',
      outlier_warning: '{n} 行订单金额{w} {t}，却占营收的 {s}，通常是录入错误。请核对，或设置 clean.outliers: reject 并给出 clean.reject_above。',
      above: '高于',
      at_or_above: '不低于',
      holdout_title: '验证期检验：预测与实际购买次数',
      holdout_note: '{d}验证期内的人均购买次数，按校准期重复购买次数分组(同 Fader、Hardie 与 Lee 2005 图4)。合计：实际 {a}，预测 {p}。',
      mean_purchases: '人均购买次数',
      unit_weeks: '周',
      unit_days: '天',
      churn_title: '流失预测',
      churn_note: '特征只取观察截止日之前的数据；流失 = 截止日后的预测窗口内没有有效订单。模型指标均在留出的测试集上计算。',
      train_rows: '训练人数',
      split: '训练 / 验证 / 测试',
      model_comparison: '模型对比(测试集)',
      chosen: '选用',
      confusion: '混淆矩阵',
      confusion_note: '{m}，阈值 {t}，测试集。',
      actual_churned: '实际流失',
      actual_stayed: '实际留存',
      pred_churned: '预测流失',
      pred_stayed: '预测留存',
      actual: '实际',
      calibration: '校准：各十分位的预测概率与实际流失率',
      mean_predicted: '平均预测概率',
      observed_rate: '实际流失率',
      perfect: '完全校准',
      top_features: '重要特征',
      importance_share: '重要性占比',
      risk_by_tier: '当前流失风险(按层级)',
      risk_note: '用选用的模型给截至报告日的每位购买用户打分；每个柱子是一个层级按风险等级的构成。',
      risk_low: '低风险',
      risk_medium: '中风险',
      risk_high: '高风险',
      all_persons: '全部',
      worth_saving: '最值得挽回的用户',
      worth_saving_note_clv: '高流失风险，按 CLV 排序。',
      worth_saving_note_monetary: '高流失风险，按消费金额排序。',
      no_high_risk: '没有高风险用户。',
      clusters_title: '用户聚类(K-means)',
      clusters_note: '对标准化的对数特征做 K-means；未配置 k 时按轮廓系数选择。',
      cluster_profiles: '聚类画像',
      cluster: '聚类',
      mean_of: '平均{f}',
      silhouette_by_k: '不同聚类数的轮廓系数(越高分得越开)',
      chosen_k: '选用的 k',
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
        { title: 'XXH3-128', get: function (r) { return String(r.xxh128 || r.sha256 || '').slice(0, 16); }, cls: 'text' }
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
    var o = q.outliers;
    if (o && o.top_warning) {
      var above = o.top === 'above';
      body.appendChild(el('p', { 'class': 'note skipped' }, [fmtTemplate('outlier_warning', {
        n: fmtInt(above ? o.rows_above : o.rows_at_or_above),
        w: L(above ? 'above' : 'at_or_above'), t: fmtMoney(o.threshold),
        s: fmtPct(above ? o.above_share : o.at_or_above_share) })]));
    }
    if (nonEmpty(o)) {
      cols.appendChild(el('div', null, [el('h3', null, [L('outliers')]),
        facts(o, ['policy', 'percentile', 'threshold', 'rows_above', 'above_share',
          'rows_at_or_above', 'at_or_above_share'], function (k, v) {
          if (k === 'policy') return L(v);
          if (k === 'threshold') return fmtMoney(v);
          if (k === 'percentile') return fmtNum(v, 3);
          if (/_share$/.test(k)) return fmtPct(v);
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

  /* ---- model sections (clv, churn, clusters) ---- */

  /* A model the job could not fit is {"skipped": reason}: say why and draw nothing. */
  function skipped(data, body) {
    if (typeof data.skipped !== 'string') return false;
    body.appendChild(el('p', { 'class': 'note skipped' }, [L('model_skipped') + ' ' + data.skipped]));
    return true;
  }

  /* items: [[display name, formatted value]] */
  function kpis(items) {
    return el('div', { 'class': 'kpis' }, items.filter(function (it) { return it[1] !== '–'; })
      .map(function (it) {
        return el('div', { 'class': 'kpi' }, [el('div', { 'class': 'v' }, [it[1]]),
          el('div', { 'class': 'k' }, [it[0]])]);
      }));
  }

  function fmtProb(v) { return num(v) ? v.toFixed(3) : '–'; }
  function fmtTemplate(key, values) {
    return L(key).replace(/\{(\w)\}/g, function (m, k) { return values[k] === undefined ? m : values[k]; });
  }
  function unitWord(unit) { return L(unit === 'days' ? 'unit_days' : 'unit_weeks'); }
  /* Feature columns that hold money (as kmeans.c decides which one is revenue). */
  function isMoney(feature) { return /monetary|revenue|spend|amount|sales|aov|clv|value/.test(feature); }

  /* Bars of a histogram whose bins are [edges[i], edges[i+1]); lastOpen: the last bin also
   * holds everything above its upper edge. */
  function histogram(parent, hist, axisName, fmtEdge, lastOpen) {
    var edges = hist.edges || [], counts = hist.counts || [];
    var bins = counts.map(function (c, i) {
      var lo = fmtEdge(edges[i]);
      return lastOpen && i === counts.length - 1 ? '≥ ' + lo : lo + '–' + fmtEdge(edges[i + 1]);
    });
    chart(parent, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: fmtInt },
      grid: { left: 60, right: 20, top: 34, bottom: 70 },
      xAxis: { type: 'category', data: bins, name: axisName, nameLocation: 'middle', nameGap: 55,
        axisLabel: { rotate: 40, fontSize: 10 } },
      yAxis: { type: 'value', name: L('persons') },
      series: [{ type: 'bar', name: L('persons'), barCategoryGap: '6%', data: counts }]
    }, 'small');
  }

  /* Bin edges of money: whole units, thousands as k; the currency is in the axis name. */
  function fmtEdgeMoney(v) {
    if (!num(v)) return '';
    return Math.abs(v) >= 1e4 ? Math.round(v / 1e3) + 'k' : String(Math.round(v));
  }

  var PARAM_SYMBOL = { alpha: 'α', gamma: 'γ' };

  function clvParamRows(clv) {
    var rows = [];
    function add(model, obj, keys) {
      keys.forEach(function (k) {
        if (obj[k] === undefined) return;
        var v = obj[k], text;
        if (k === 'converged') text = L(v ? 'yes' : 'no');
        else if (k === 'persons' || k === 'persons_excluded' || k === 'iterations') text = fmtInt(v);
        else if (k === 'log_likelihood') text = fmtNum(v, 1);
        else if (k === 'population_mean_aov') text = fmtMoney(v);
        else text = fmtNum(v, 4);
        rows.push({ model: rows.length && rows[rows.length - 1].group === model ? '' : model, group: model,
          name: PARAM_SYMBOL[k] || (k.length <= 2 ? k : L(k)), value: text });
      });
    }
    if (clv.bgnbd) add(L('bgnbd'), clv.bgnbd, ['r', 'alpha', 'a', 'b', 'log_likelihood', 'persons', 'converged']);
    if (clv.gamma_gamma) add(L('gamma_gamma'), clv.gamma_gamma, ['p', 'q', 'gamma', 'log_likelihood', 'persons',
      'persons_excluded', 'population_mean_aov', 'converged']);
    var o = clv.options || {}, unit = unitWord(clv.unit);
    var opts = [];
    if (num(o.horizon)) opts.push([L('horizon'), fmtNum(o.horizon, 1) + ' ' + unit]);
    if (num(o.months)) opts.push([L('months'), fmtInt(o.months)]);
    if (num(o.discount)) opts.push([L('discount'), fmtPct(o.discount, 1)]);
    opts.forEach(function (kv, i) {
      rows.push({ model: i ? '' : L('clv_options'), name: kv[0], value: kv[1] });
    });
    return rows;
  }

  function pAliveHeatmap(heat, unit, body) {
    var edges = heat.recency_edges || [], cols = heat.frequency_labels || [], mean = heat.mean || [];
    var persons = heat.persons || [];
    var rows = mean.map(function (r, i) { return fmtNum(edges[i], 0) + '–' + fmtNum(edges[i + 1], 0); });
    var data = [];
    mean.forEach(function (row, i) {
      (row || []).forEach(function (v, j) {
        var n = persons[i] ? persons[i][j] : undefined;
        data.push({ value: [j, i, num(v) ? v : '-'], persons: n });
      });
    });
    chart(body, {
      tooltip: { formatter: function (p) {
        return L('since_last') + ' ' + rows[p.data.value[1]] + ' ' + unitWord(unit) + ', ' + L('repeat_purchases') +
          ' ' + cols[p.data.value[0]] + '<br>' + L('p_alive_mean') + ': ' + fmtPct(p.data.value[2]) +
          '<br>' + L('persons') + ': ' + fmtInt(p.data.persons);
      } },
      grid: { left: 90, right: 30, top: 10, bottom: 90 },
      xAxis: { type: 'category', data: cols, name: L('repeat_purchases'), nameLocation: 'middle', nameGap: 28, splitArea: { show: true } },
      yAxis: { type: 'category', data: rows, name: L('since_last') + ' (' + unitWord(unit) + ')', nameLocation: 'middle',
        nameGap: 70, splitArea: { show: true } },
      visualMap: { min: 0, max: 1, calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
        itemHeight: 160, text: ['P(alive) 100%', '0%'], inRange: { color: ['#c8453c', '#f3d27a', '#3a9d5d'] } },
      series: [{ type: 'heatmap', name: L('p_alive_mean'),
        label: { show: true, fontSize: 10, formatter: function (p) { return fmtPct(p.data.value[2], 0); } },
        data: data }]
    });
  }

  function holdoutChart(h, unit, body) {
    var groups = (h.groups || []).filter(function (g) { return g.persons > 0; });
    if (!groups.length) return;
    body.appendChild(el('h3', null, [L('holdout_title')]));
    body.appendChild(el('p', { 'class': 'note' }, [fmtTemplate('holdout_note', {
      d: fmtNum(h.duration, 1) + ' ' + unitWord(unit), a: fmtNum(h.actual_total, 0), p: fmtNum(h.predicted_total, 0) })]));
    function values(key) { return groups.map(function (g) { return num(g[key]) ? g[key] : '-'; }); }
    chart(body, {
      tooltip: { trigger: 'axis', formatter: function (ps) {
        var g = groups[ps[0].dataIndex];
        return L('repeat_purchases') + ' ' + g.x + ' (' + L('persons') + ' ' + fmtInt(g.persons) + ')<br>' +
          ps.map(function (p) { return p.marker + p.seriesName + ': ' + fmtNum(p.value, 2); }).join('<br>');
      } },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 36, bottom: 50 },
      xAxis: { type: 'category', data: groups.map(function (g) { return g.x; }), name: L('repeat_purchases'),
        nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', name: L('mean_purchases'), nameLocation: 'middle', nameGap: 40 },
      series: [
        { type: 'bar', name: L('actual'), itemStyle: { color: '#8db6df' }, data: values('actual') },
        { type: 'line', name: L('predicted') + ' (BG/NBD)', symbolSize: 8, itemStyle: { color: '#e07b39' },
          data: values('predicted') }
      ]
    });
  }

  function renderClv(clv, body) {
    if (skipped(clv, body)) return;
    var t = clv.totals || {};
    body.appendChild(kpis([
      [L('persons'), fmtInt(t.persons)],
      [L('p_alive_mean'), fmtPct(t.p_alive_mean)],
      [L('exp_purchases_sum'), fmtNum(t.exp_purchases_sum, 0)],
      [L('clv_sum'), fmtMoney(t.clv_sum)],
      [L('clv_mean'), fmtMoney(t.clv_mean)]
    ]));
    body.appendChild(el('h3', null, [L('parameters')]));
    body.appendChild(table(clvParamRows(clv), [
      { title: L('model'), get: function (r) { return r.model; }, cls: 'text' },
      { title: L('parameter'), get: function (r) { return r.name; }, cls: 'text' },
      { title: L('estimate'), get: function (r) { return r.value; } }
    ]));
    if (typeof clv.gamma_gamma_skipped === 'string')
      body.appendChild(el('p', { 'class': 'note skipped' }, [L('gg_skipped') + ' ' + clv.gamma_gamma_skipped]));
    var grid = el('div', { 'class': 'grid2' });
    body.appendChild(grid);
    var ph = clv.p_alive_histogram;
    if (ph && nonEmpty(ph.counts)) {
      var cell = el('div', null, [el('h3', null, [L('p_alive_hist')])]);
      grid.appendChild(cell);
      histogram(cell, ph, 'P(alive)', function (v) { return fmtPct(v, 0); }, false);
    }
    var ch = clv.clv_histogram;
    if (ch && nonEmpty(ch.counts)) {
      var cell2 = el('div', null, [el('h3', null, [L('clv_hist')])]);
      grid.appendChild(cell2);
      histogram(cell2, ch, L('clv'), fmtEdgeMoney, true);
      var q = ch.quantiles || {};
      cell2.appendChild(facts(q, ['p50', 'p90', 'p99', 'max'], function (k, v) { return fmtMoney(v); }));
      cell2.appendChild(el('p', { 'class': 'note' }, [L('clv_hist_note')]));
    }
    var heat = clv.p_alive_heatmap;
    if (heat && nonEmpty(heat.mean)) {
      body.appendChild(el('h3', null, [L('p_alive_heat')]));
      pAliveHeatmap(heat, clv.unit, body);
    }
    if (nonEmpty(clv.holdout)) holdoutChart(clv.holdout, clv.unit, body);
  }

  function churnMetricsTable(models, chosen) {
    function conf(key) { return function (m) { return fmtProb((m.confusion || {})[key]); }; }
    return table(models, [
      { title: L('model'), cls: 'text', get: function (m) {
        return L(m.model) + (m.model === chosen ? ' ✓ ' + L('chosen') : '');
      } },
      { title: L('auc'), get: function (m) { return fmtProb(m.auc); } },
      { title: L('pr_auc'), get: function (m) { return fmtProb(m.pr_auc); } },
      { title: L('log_loss'), get: function (m) { return fmtProb(m.log_loss); } },
      { title: L('brier'), get: function (m) { return fmtProb(m.brier); } },
      { title: L('threshold'), get: function (m) { return fmtProb(m.threshold); } },
      { title: L('precision'), get: conf('precision') },
      { title: L('recall'), get: conf('recall') },
      { title: L('f1'), get: conf('f1') },
      { title: L('accuracy'), get: conf('accuracy') }
    ]);
  }

  function confusionTable(m) {
    var c = m.confusion || {};
    var total = (c.tp || 0) + (c.fp || 0) + (c.tn || 0) + (c.fn || 0);
    function cell(v) { return fmtInt(v) + (total ? ' (' + fmtPct(v / total) + ')' : ''); }
    var rows = [
      { label: L('actual_churned'), a: c.tp, b: c.fn },
      { label: L('actual_stayed'), a: c.fp, b: c.tn }
    ];
    var t = table(rows, [
      { title: L('actual'), get: function (r) { return r.label; }, cls: 'text' },
      { title: L('pred_churned'), get: function (r) { return cell(r.a); } },
      { title: L('pred_stayed'), get: function (r) { return cell(r.b); } }
    ]);
    t.className += ' compact';
    return t;
  }

  function calibrationChart(models, chosen, body) {
    var series = models.filter(function (m) { return nonEmpty(m.calibration); }).map(function (m) {
      return { type: 'line', name: L(m.model), symbolSize: 7,
        lineStyle: { width: m.model === chosen ? 2.5 : 1.5, type: m.model === chosen ? 'solid' : 'dashed' },
        data: m.calibration.map(function (b) { return [b.mean_predicted, b.observed, b.n]; }) };
    });
    if (!series.length) return;
    series.push({ type: 'line', name: L('perfect'), showSymbol: false, silent: true,
      lineStyle: { type: 'dotted', width: 1, color: '#9aa5b1' }, itemStyle: { color: '#9aa5b1' },
      data: [[0, 0], [1, 1]] });
    body.appendChild(el('h3', null, [L('calibration')]));
    chart(body, {
      tooltip: { trigger: 'item', formatter: function (p) {
        return p.seriesName + '<br>' + L('mean_predicted') + ': ' + fmtPct(p.data[0]) + '<br>' + L('observed_rate') +
          ': ' + fmtPct(p.data[1]) + (num(p.data[2]) ? '<br>' + L('persons') + ': ' + fmtInt(p.data[2]) : '');
      } },
      legend: { top: 0 },
      grid: { left: 70, right: 30, top: 36, bottom: 50 },
      xAxis: { type: 'value', min: 0, max: 1, name: L('mean_predicted'), nameLocation: 'middle', nameGap: 30,
        axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      yAxis: { type: 'value', min: 0, max: 1, name: L('observed_rate'), nameLocation: 'middle', nameGap: 45,
        axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      series: series
    });
  }

  function featureChart(m, chosen, parent) {
    var feats = (m.top_features || []).slice(0, 12);
    if (!feats.length) return;
    var cell = el('div', null, [el('h3', null, [L('top_features') + ' · ' + L(m.model) +
      (m.model === chosen ? ' ✓' : '')])]);
    parent.appendChild(cell);
    chart(cell, {
      tooltip: { trigger: 'item', formatter: function (p) {
        var f = feats[p.dataIndex];
        var extra = num(f.coefficient) ? L('coefficient') + ': ' + fmtNum(f.coefficient, 3)
          : num(f.gain) ? L('gain') + ': ' + fmtNum(f.gain, 2) : '';
        return L(f.feature) + '<br>' + L('importance_share') + ': ' + fmtPct(f.share) + (extra ? '<br>' + extra : '');
      } },
      grid: { left: 170, right: 50, top: 10, bottom: 30 },
      xAxis: { type: 'value', axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      yAxis: { type: 'category', inverse: true, data: feats.map(function (f) { return L(f.feature); }) },
      series: [{ type: 'bar', name: L('importance_share'),
        itemStyle: { color: m.model === chosen ? '#2f6fb3' : '#8db6df' },
        label: { show: true, position: 'right', formatter: function (p) { return fmtPct(p.value, 0); } },
        data: feats.map(function (f) { return num(f.share) ? f.share : 0; }) }]
    });
  }

  var RISK_COLOR = { low: '#3a9d5d', medium: '#e0a339', high: '#c8453c' };

  function riskByTierChart(present, body) {
    var rows = nonEmpty(present.by_tier) ? present.by_tier.slice().sort(function (a, b) {
      return String(a.tier) < String(b.tier) ? -1 : 1;
    }) : [];
    if (!rows.length && present.counts) {
      var c = present.counts;
      rows = [{ tier: 'all_persons', n: (c.low || 0) + (c.medium || 0) + (c.high || 0), low: c.low, medium: c.medium, high: c.high }];
    }
    rows = rows.filter(function (r) { return r.n > 0; });
    if (!rows.length) return;
    chart(body, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, formatter: function (ps) {
        var r = rows[ps[0].dataIndex];
        return L(r.tier) + ' (' + L('persons') + ' ' + fmtInt(r.n) + ')<br>' + ps.map(function (p) {
          var band = ['low', 'medium', 'high'][p.seriesIndex];
          return p.marker + p.seriesName + ': ' + fmtInt(r[band]) + ' (' + fmtPct(p.value) + ')';
        }).join('<br>');
      } },
      legend: { top: 0 },
      grid: { left: 130, right: 30, top: 36, bottom: 30 },
      xAxis: { type: 'value', max: 1, axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      yAxis: { type: 'category', inverse: true, data: rows.map(function (r) { return L(r.tier); }) },
      series: ['low', 'medium', 'high'].map(function (band) {
        return { type: 'bar', stack: 'risk', name: L('risk_' + band), itemStyle: { color: RISK_COLOR[band] },
          label: { show: true, color: '#fff', formatter: function (p) { return p.value >= 0.06 ? fmtPct(p.value, 0) : ''; } },
          data: rows.map(function (r) { return (r[band] || 0) / r.n; }) };
      })
    }, rows.length > 3 ? null : 'small');
  }

  function worthSavingTable(list, valueKind, body) {
    body.appendChild(el('h3', null, [L('worth_saving')]));
    body.appendChild(el('p', { 'class': 'note' }, [L(valueKind === 'clv' ? 'worth_saving_note_clv' : 'worth_saving_note_monetary')]));
    if (!list.length) return body.appendChild(el('p', { 'class': 'empty' }, [L('no_high_risk')]));
    body.appendChild(table(list, [
      { title: '#', get: function (r) { return String(list.indexOf(r) + 1); } },
      { title: L('user_id'), get: function (r) { return r.user_id; }, cls: 'text' },
      { title: L('churn_prob'), get: function (r) { return fmtPct(r.churn_prob); } },
      { title: L(valueKind === 'clv' ? 'clv' : 'monetary'), get: function (r) { return fmtMoney(r.value); } },
      { title: L('tier'), get: function (r) { return L(r.tier); }, cls: 'text' },
      { title: L('rfm_segment'), get: function (r) { return L(r.rfm_segment); }, cls: 'text' }
    ]));
  }

  function renderChurn(c, body) {
    if (skipped(c, body)) return;
    var models = c.models || [];
    var chosen = c.chosen;
    var best = models.filter(function (m) { return m.model === chosen; })[0] || models[0] || {};
    var present = c.present || {};
    var counts = present.counts || {};
    body.appendChild(kpis([
      [L('train_rows'), fmtInt(c.rows)],
      [L('positive_rate'), fmtPct(c.positive_rate)],
      [L('auc') + ' · ' + L(best.model || ''), fmtProb(best.auc)],
      [L('risk_high'), fmtInt(counts.high)]
    ]));
    var split = c.split || {};
    var info = { cutoff: c.cutoff, horizon_days: c.horizon_days, features: c.features, positives: c.positives,
      split: num(split.train) ? [split.train, split.valid, split.test].map(fmtInt).join(' / ') : undefined,
      threshold: c.threshold };
    body.appendChild(facts(info, ['cutoff', 'horizon_days', 'positives', 'features', 'split', 'threshold'],
      function (k, v) {
        if (k === 'threshold') return fmtProb(v);
        if (k === 'cutoff' || k === 'split') return String(v);
        return fmtInt(v);
      }));
    if (models.length) {
      body.appendChild(el('h3', null, [L('model_comparison')]));
      body.appendChild(churnMetricsTable(models, chosen));
    }
    if (best.confusion) {
      body.appendChild(el('h3', null, [L('confusion')]));
      body.appendChild(el('p', { 'class': 'note' }, [fmtTemplate('confusion_note', { m: L(best.model), t: fmtProb(best.threshold) })]));
      body.appendChild(confusionTable(best));
    }
    calibrationChart(models, chosen, body);
    var grid = el('div', { 'class': 'grid2' });
    body.appendChild(grid);
    models.forEach(function (m) { featureChart(m, chosen, grid); });
    if (nonEmpty(present)) {
      body.appendChild(el('h3', null, [L('risk_by_tier')]));
      body.appendChild(el('p', { 'class': 'note' }, [L('risk_note')]));
      riskByTierChart(present, body);
    }
    if (Array.isArray(c.worth_saving)) worthSavingTable(c.worth_saving, c.worth_saving_value, body);
  }

  function renderClusters(k, body) {
    if (skipped(k, body)) return;
    var clusters = k.clusters || [];
    var features = Array.isArray(k.features) ? k.features : [];
    if (!features.length && clusters.length) features = Object.keys(clusters[0].mean || {});
    function name(c) {
      var n = lang === 'zh' ? c.name_zh || c.name_en : c.name_en || c.name_zh;
      return n || L('cluster') + ' ' + c.id;
    }
    body.appendChild(kpis([
      [L('k'), fmtInt(k.k)],
      [L('persons'), fmtInt(k.persons)],
      [L('silhouette'), fmtProb(silhouetteOf(k, k.k))]
    ]));
    if (clusters.length) {
      clusterShareChart(clusters, name, body);
      body.appendChild(el('h3', null, [L('cluster_profiles')]));
      var cols = [
        { title: '#', get: function (c) { return String(c.id); } },
        { title: L('cluster'), get: name, cls: 'text' },
        { title: L('persons'), get: function (c) { return fmtInt(c.size); } },
        { title: L('person_share'), get: function (c) { return fmtPct(c.share); } },
        { title: L('revenue_share'), get: function (c) { return fmtPct(c.revenue_share); } }
      ];
      features.forEach(function (f) {
        var fname = lang === 'en' ? L(f).charAt(0).toLowerCase() + L(f).slice(1) : L(f);
        cols.push({ title: fmtTemplate('mean_of', { f: fname }), get: function (c) {
          var v = (c.mean || {})[f];
          return isMoney(f) ? fmtMoney(v) : fmtNum(v, 1);
        } });
      });
      body.appendChild(table(clusters, cols));
    }
    var sil = (k.silhouette || []).filter(function (s) { return num(s.k); });
    if (sil.some(function (s) { return num(s.score); })) {
      body.appendChild(el('h3', null, [L('silhouette_by_k')]));
      chart(body, {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtProb(v); } },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: { type: 'category', name: 'k', nameLocation: 'middle', nameGap: 26,
          data: sil.map(function (s) { return String(s.k); }) },
        yAxis: { type: 'value', name: L('silhouette') },
        series: [{ type: 'bar', name: L('silhouette'), barMaxWidth: 48,
          label: { show: true, position: 'top', formatter: function (p) {
            return fmtProb(p.value) + (sil[p.dataIndex].k === k.k ? ' · ' + L('chosen_k') : '');
          } },
          itemStyle: { color: function (p) { return sil[p.dataIndex].k === k.k ? '#2f6fb3' : '#b9d1ea'; } },
          data: sil.map(function (s) { return num(s.score) ? s.score : '-'; }) }]
      }, 'small');
    }
  }

  /* Share of persons and of revenue per cluster; names are data (not label keys) and long,
   * so the axis wraps them instead of cutting them off. */
  function clusterShareChart(clusters, name, body) {
    var series = [{ type: 'bar', name: L('person_share'), data: clusters.map(function (c) { return num(c.share) ? c.share : 0; }) }];
    if (clusters.some(function (c) { return num(c.revenue_share); }))
      series.push({ type: 'bar', name: L('revenue_share'),
        data: clusters.map(function (c) { return num(c.revenue_share) ? c.revenue_share : 0; }) });
    series.forEach(function (sr) {
      sr.label = { show: true, position: 'right', formatter: function (p) { return fmtPct(p.value, 0); } };
    });
    chart(body, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return fmtPct(v); } },
      legend: { top: 0 },
      grid: { left: 10, right: 50, top: 30, bottom: 20, containLabel: true },
      xAxis: { type: 'value', axisLabel: { formatter: function (v) { return fmtPct(v, 0); } } },
      yAxis: { type: 'category', inverse: true, axisLabel: { width: 190, overflow: 'break', lineHeight: 15 },
        data: clusters.map(name) },
      series: series
    }, clusters.length > 4 ? null : 'small');
  }

  function silhouetteOf(k, which) {
    var hit = (k.silhouette || []).filter(function (s) { return s.k === which; })[0];
    return hit ? hit.score : undefined;
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
    { key: 'clv', title: 'clv_title', note: 'clv_note', render: renderClv },
    { key: 'churn', title: 'churn_title', note: 'churn_note', render: renderChurn },
    { key: 'clusters', title: 'clusters_title', note: 'clusters_note', render: renderClusters },
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

  /* Count charts whose every series has data and whose SVG was drawn, in all and per section
   * (data-section-charts="key:drawn ..."), so a test can tell which section lost a chart. */
  function selfCheck(sectionsShown) {
    var ok = 0, empty = 0, perSection = {};
    sectionsShown.forEach(function (key) { perSection[key] = 0; });
    charts.forEach(function (c) {
      var series = (c.chart.getOption() || {}).series || [];
      var hasData = series.length > 0 && series.every(function (s) {
        return Array.isArray(s.data) && s.data.length > 0;
      });
      var svg = c.box.querySelector('svg');
      var drawn = !!svg && svg.querySelectorAll('path, rect, text').length > 3;
      if (hasData && drawn) ok++; else empty++;
      var section = c.box.closest('section');
      var key = section && section.id ? section.id.replace(/^sec-/, '') : '';
      if (hasData && drawn && perSection.hasOwnProperty(key)) perSection[key]++;
      c.box.setAttribute('data-chart-ok', hasData && drawn ? '1' : '0');
    });
    var body = document.body;
    body.setAttribute('data-charts', String(charts.length));
    body.setAttribute('data-charts-ok', String(ok));
    body.setAttribute('data-charts-empty', String(empty));
    body.setAttribute('data-sections', sectionsShown.join(' '));
    body.setAttribute('data-section-charts', sectionsShown.map(function (key) {
      return key + ':' + perSection[key];
    }).join(' '));
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
