// The dashboard: live figures, the memory and CPU chart, and new images as they are stored.
'use strict';
(function () {
  const PIR = window.PIR;
  const list = document.getElementById('thumbs');
  const empty = document.getElementById('thumbs-empty');
  const filter = list.dataset.sourceFilter;
  const limit = Number(list.dataset.limit);
  const select = document.getElementById('source-filter');

  select.addEventListener('change', () => select.form.submit());

  const chart = new PIR.LiveChart(document.getElementById('overview-chart'), {
    series: [
      { key: 'rss_mb', label: 'RSS', colour: '--c1', scale: 'mib', format: 'mib' },
      { key: 'cpu_percent', label: 'CPU', colour: '--c2', scale: 'percent', format: 'percent' },
    ],
    axes: [
      { scale: 'mib', unit: ' MiB', floor: 64 },
      { scale: 'percent', unit: ' %', floor: 10 },
    ],
  });

  function showSettings(settings) {
    for (const cell of document.querySelectorAll('[data-setting]')) {
      const value = settings[cell.dataset.setting];
      cell.textContent = PIR.format.setting(JSON.parse(cell.dataset.spec), value);
    }
  }

  /** The same card as views/partials/thumb.ejs renders. */
  function thumbCard(image) {
    const { el } = PIR;
    const img = el('img', { alt: `${image.source} image ${image.id}`, width: 320, height: 240, decoding: 'async' });
    img.dataset.src = `${image.url}/thumbnail`;
    const link = el('a', { target: '_blank', rel: 'noopener' }, img);
    link.dataset.href = image.url;
    const time = el('time', { dateTime: image.received_at });
    const item = el('li', { className: 'thumb new' }, link, el('div', { className: 'thumb-meta' },
      el('span', { className: 'source', textContent: image.source }),
      time,
      el('span', { textContent: `${image.width} × ${image.height} · ${PIR.format.bytes(image.bytes)}` })));
    item.dataset.source = image.source;
    item.dataset.id = image.id;
    PIR.auth.applyUrls(item);
    PIR.localTimes(item);
    return item;
  }

  function addSource(name) {
    if ([...select.options].some((option) => option.value === name)) return;
    const option = new Option(name, name);
    const after = [...select.options].slice(1).find((o) => o.value > name);
    select.add(option, after || null);
  }

  function showImage(image) {
    addSource(image.source);
    if (filter && image.source !== filter) return;
    list.prepend(thumbCard(image));
    while (list.children.length > limit) list.lastElementChild.remove();
    empty.hidden = true;
  }

  PIR.live.connect({
    history: (columns) => chart.setHistory(columns),
    point: (point) => chart.add(point),
    stats: (status) => {
      PIR.bindStats(status);
      showSettings(status.config);
    },
    image: showImage,
  });
})();
