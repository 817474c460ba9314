// The live side of every page: the Server-Sent Events stream from /events, the figures bound to
// it by data-field attributes, and the charts (uPlot) fed from the daemon's history.
'use strict';
(function () {
  const PIR = window.PIR;

  const format = PIR.format;

  function pick(object, path) {
    return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
  }

  /** Writes the readings into every element with data-field="path.in.status" and data-format. */
  function bindStats(status, root = document) {
    for (const el of root.querySelectorAll('[data-field]')) {
      const value = pick(status, el.dataset.field);
      const fmt = format[el.dataset.format];
      el.textContent = fmt ? fmt(value) : String(value ?? '–');
    }
  }

  /** Shows <time datetime> elements in the reader's local time. */
  function localTimes(root = document) {
    for (const el of root.querySelectorAll('time[datetime]')) {
      const date = new Date(el.getAttribute('datetime'));
      if (!Number.isNaN(date.getTime())) el.textContent = date.toLocaleString();
    }
  }

  function cssColour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
  }

  /**
   * A time chart of some of the history series. `series` are {key, label, colour, scale}; `scales`
   * maps a scale name to its axis label and side.
   */
  class LiveChart {
    constructor(el, { series, axes, capacity = 300 }) {
      this.el = el;
      this.series = series;
      this.capacity = capacity;
      this.data = [[], ...series.map(() => [])];
      const text = cssColour('--muted');
      const grid = cssColour('--line');
      const axis = (extra) => ({ stroke: text, font: '12px system-ui, sans-serif', grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...extra });
      this.plot = new uPlot({
        width: this.width(),
        height: el.clientWidth < 480 ? 170 : 210,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, ...Object.fromEntries(axes.map((a) => [a.scale, { range: (u, min, max) => [0, Math.max(a.floor || 1, (max || 0) * 1.15)] }])) },
        series: [{}, ...series.map((s) => ({
          label: s.label,
          scale: s.scale,
          stroke: cssColour(s.colour),
          // The palette is hex, so an alpha byte makes the fill a tint of the line.
          fill: `${cssColour(s.colour)}1f`,
          width: 2,
          points: { show: false },
          value: (u, v) => format[s.format](v),
        }))],
        axes: [axis({}), ...axes.map((a, i) => axis({
          scale: a.scale,
          side: i === 0 ? 3 : 1,
          // Wide enough for the longest tick label (about 7 px a character at 12 px).
          size: (u, values) => (values ? Math.max(...values.map((v) => String(v).length)) * 7 + 20 : 48),
          font: '12px system-ui, sans-serif',
          grid: { show: i === 0, stroke: grid, width: 1 },
          values: (u, ticks) => ticks.map((v) => `${PIR.format.int(+v.toFixed(1))}${a.unit}`),
        }))],
      }, this.data, el);
      new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: this.plot.height })).observe(el);
    }

    width() {
      return Math.max(200, this.el.clientWidth);
    }

    /** Replaces the data with the daemon's history (columns by series key, oldest first). */
    setHistory(columns) {
      this.data = [columns.t.slice(), ...this.series.map((s) => columns[s.key].slice())];
      this.redraw();
    }

    /** Appends one sample, dropping the oldest past `capacity`. */
    add(point) {
      this.data[0].push(point.t);
      this.series.forEach((s, i) => this.data[i + 1].push(point[s.key]));
      if (this.data[0].length > this.capacity) for (const column of this.data) column.shift();
      this.redraw();
    }

    redraw() {
      this.plot.setData(this.data);
      this.el.dataset.points = String(this.data[0].length);
    }
  }

  /**
   * Follows /events: `handlers` may have history, stats, point and image. Reconnects by itself;
   * when the stream is refused (a 401 among others) it asks through an ordinary request, which
   * prompts for the token, and connects again.
   */
  function connect(handlers) {
    const state = document.querySelector('[data-live-state]');
    const show = (on, text) => {
      if (!state) return;
      state.hidden = false;
      state.classList.toggle('on', on);
      state.classList.toggle('off', !on);
      state.textContent = text;
    };
    let source;
    const open = () => {
      source = new EventSource(PIR.auth.withToken('/events'));
      for (const name of ['history', 'stats', 'point', 'image']) {
        if (handlers[name]) source.addEventListener(name, (event) => handlers[name](JSON.parse(event.data)));
      }
      source.addEventListener('open', () => show(true, 'live'));
      source.addEventListener('stats', () => show(true, 'live'));
      source.addEventListener('error', () => {
        show(false, 'reconnecting');
        if (source.readyState !== EventSource.CLOSED) return;
        setTimeout(async () => {
          await PIR.auth.fetch('/memory_status').catch(() => undefined);
          open();
        }, 3000);
      });
    };
    open();
    addEventListener('pagehide', () => source.close());
  }

  Object.assign(PIR, { bindStats, localTimes, LiveChart, live: { connect } });
  localTimes();
})();
