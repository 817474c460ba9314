// The memory-status page: every figure live, and charts of memory, heap and CPU history.
'use strict';
(function () {
  const PIR = window.PIR;
  const chartOf = (name) => document.querySelector(`[data-chart="${name}"]`);
  const charts = [
    new PIR.LiveChart(chartOf('memory'), {
      series: [
        { key: 'rss_mb', label: 'RSS', colour: '--c1', scale: 'mib', format: 'mib' },
        { key: 'heap_total_mb', label: 'Heap total', colour: '--c4', scale: 'mib', format: 'mib' },
        { key: 'heap_used_mb', label: 'Heap used', colour: '--c3', scale: 'mib', format: 'mib' },
      ],
      axes: [{ scale: 'mib', unit: ' MiB', floor: 64 }],
    }),
    new PIR.LiveChart(chartOf('cpu'), {
      series: [{ key: 'cpu_percent', label: 'CPU', colour: '--c2', scale: 'percent', format: 'percent' }],
      axes: [{ scale: 'percent', unit: ' %', floor: 10 }],
    }),
    new PIR.LiveChart(chartOf('vms'), {
      series: [{ key: 'vms_mb', label: 'VMS', colour: '--c4', scale: 'mib', format: 'mib' }],
      axes: [{ scale: 'mib', unit: ' MiB', floor: 64 }],
    }),
  ];

  const rejected = document.querySelector('[data-rejected]');
  function showRejected(reasons) {
    const { el } = PIR;
    const rows = Object.entries(reasons).map(([reason, count]) => el('tr', {},
      el('th', { scope: 'row', className: 'mono', textContent: reason }),
      el('td', { className: 'num', textContent: PIR.format.int(count) })));
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { className: 'muted', textContent: 'none' })));
    rejected.replaceChildren(...rows);
  }

  const consumers = document.querySelector('[data-consumers] tbody');
  function showConsumers(states) {
    const { el, format } = PIR;
    const rows = Object.entries(states).map(([name, c]) => el('tr', {},
      el('th', { scope: 'row', className: 'mono', textContent: name }),
      el('td', { className: 'num', textContent: format.int(c.pending) }),
      el('td', { className: 'num', textContent: format.int(c.delivered) }),
      el('td', { className: 'num', textContent: format.int(c.skipped) }),
      el('td', { textContent: format.time(c.last_success_at) }),
      el('td', { textContent: c.last_error || '–' })));
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colSpan: 6, className: 'muted', textContent: 'none configured' })));
    consumers.replaceChildren(...rows);
  }

  PIR.live.connect({
    history: (columns) => charts.forEach((chart) => chart.setHistory(columns)),
    point: (point) => charts.forEach((chart) => chart.add(point)),
    stats: (status) => {
      PIR.bindStats(status);
      showRejected(status.processing.rejected);
      showConsumers(status.consumers || {});
    },
  });
})();
