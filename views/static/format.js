// How figures read, shared by the daemon's templates (server/http/view-helpers.ts requires this
// file) and the pages' scripts (as PIR.format), so that a figure reads the same whether it was
// rendered with the page or pushed live. Every formatter shows a missing value as a dash.
'use strict';
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else (root.PIR = root.PIR || {}).format = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const missing = (v) => v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));
  const orDash = (fn) => (v) => (missing(v) ? '–' : fn(v));

  /** 52428800 -> "50 MiB": whole units when exact, else one decimal. */
  function bytes(v) {
    let value = v;
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return `${Number.isInteger(value) ? value : value.toFixed(1)} ${UNITS[unit]}`;
  }

  /** "3 d 4 h", "5 h 2 min", "42 s": an uptime at a glance. */
  function duration(s) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d} d ${h} h`;
    if (h > 0) return `${h} h ${m} min`;
    if (m > 0) return `${m} min ${Math.floor(s % 60)} s`;
    return `${Math.floor(s)} s`;
  }

  /** How many of a list, or its items' names: "door, porch", "2 panels" is left to the caller. */
  function listItems(value) {
    return value.map((item) => (item && typeof item === 'object' ? item.name || JSON.stringify(item) : String(item))).join(', ');
  }

  /**
   * A setting's value as people read it, from its spec's kind, unit and `zero` (what 0 or empty
   * means: "off", "automatic"): sizes in binary units, booleans as on/off, lists by their items.
   */
  function setting(spec, value) {
    const empty = value === 0 || value === '' || (Array.isArray(value) && value.length === 0);
    if (spec.zero && empty) return spec.zero;
    switch (spec.kind) {
      case 'boolean': return value ? 'on' : 'off';
      case 'integer': case 'number':
        if (spec.unit === 'bytes') return bytes(value);
        return `${spec.kind === 'integer' ? value.toLocaleString('en-US') : String(value)}${spec.unit ? ` ${spec.unit}` : ''}`;
      case 'string': case 'enum': return value === '' ? '(none)' : String(value);
      case 'list': return Array.isArray(value) ? listItems(value) : JSON.stringify(value);
      default: return JSON.stringify(value);
    }
  }

  return {
    setting,
    bytes: orDash(bytes),
    duration: orDash(duration),
    int: orDash((v) => v.toLocaleString('en-US')),
    mib: orDash((v) => `${v.toFixed(1)} MiB`),
    percent: orDash((v) => `${v.toFixed(1)} %`),
    ms: orDash((v) => `${Math.round(v)} ms`),
    onoff: orDash((v) => (v ? 'on' : 'off')),
    load: orDash((v) => v.map((x) => x.toFixed(2)).join(' · ')),
    time: orDash((v) => new Date(v).toLocaleString('en-US')),
  };
});
