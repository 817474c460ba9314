// The dashboard: live figures, the memory and CPU chart, and new images as they are stored.
'use strict';
(function () {
  const PIR = window.PIR;
  const list = document.getElementById('thumbs');
  const empty = document.getElementById('thumbs-empty');
  const filter = list.dataset.sourceFilter;
  const day = list.dataset.dayFilter;
  const pageSize = Number(list.dataset.limit);
  // Grows as older pages are loaded, so that a new image does not push them out.
  let limit = pageSize;
  const select = document.getElementById('source-filter');
  const dayInput = document.getElementById('day-filter');
  const older = document.getElementById('older-images');

  /** Applies the filters: a plain GET, naming only those that are set. */
  function applyFilters() {
    const params = new URLSearchParams([...new FormData(select.form)].filter(([, value]) => value !== ''));
    window.location.assign(params.size > 0 ? `/?${params}` : '/');
  }
  select.addEventListener('change', applyFilters);
  dayInput.addEventListener('change', applyFilters);

  /** Loads the next page of older images (the `before` cursor of GET /images) below the others. */
  older.addEventListener('click', async () => {
    older.disabled = true;
    const params = new URLSearchParams({ limit: String(pageSize), before: older.dataset.next });
    if (filter) params.set('source', filter);
    if (day) params.set('day', day);
    try {
      const res = await PIR.auth.fetch(`/images?${params}`);
      const page = await res.json();
      if (!res.ok) throw new Error(page.error ? page.error.message : `the daemon answered ${res.status}`);
      const cards = page.images.map((image) => thumbCard(image, false));
      list.append(...cards);
      limit += cards.length;
      older.dataset.next = page.next || '';
      older.hidden = !page.next;
      // Keyboard users continue from the first image just loaded.
      if (cards[0]) cards[0].querySelector('a').focus();
    } catch (err) {
      older.textContent = `Could not load older images: ${err.message}`;
    } finally {
      older.disabled = false;
    }
  });

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
  function thumbCard(image, isNew = true) {
    const { el } = PIR;
    const img = el('img', { alt: `${image.source} image ${image.id}`, width: 320, height: 240, decoding: 'async', loading: 'lazy' });
    img.dataset.src = `${image.url}/thumbnail`;
    const link = el('a', {}, img);
    link.dataset.href = `${image.url}/meta`;
    const time = el('time', { dateTime: image.received_at });
    const item = el('li', { className: isNew ? 'thumb new' : 'thumb' }, link, el('div', { className: 'thumb-meta' },
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
    if (day && !image.received_at.startsWith(day)) return;
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
