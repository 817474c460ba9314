// The log viewer: the newest lines from /logs/stream (which sends the recent ones first), newest
// at the top, filtered by level in the page; at most as many rows as the daemon keeps.
'use strict';
(function () {
  const PIR = window.PIR;
  const body = document.querySelector('[data-log-lines]');
  const state = document.querySelector('[data-log-state]');
  const level = document.querySelector('[data-log-level]');
  const MAX_ROWS = 1000;

  function row(entry) {
    const tr = document.createElement('tr');
    tr.dataset.level = entry.level;
    for (const text of [new Date(entry.timestamp).toLocaleTimeString(), entry.level, entry.message]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    tr.hidden = Boolean(level.value) && level.value !== entry.level;
    return tr;
  }

  level.addEventListener('change', () => {
    for (const tr of body.rows) tr.hidden = Boolean(level.value) && level.value !== tr.dataset.level;
  });

  const source = new EventSource(PIR.auth.withToken('/logs/stream'));
  // The stream starts with the recent lines, also after a reconnect: start the table afresh.
  source.addEventListener('open', () => { state.textContent = 'live'; body.replaceChildren(); });
  source.addEventListener('error', () => { state.textContent = 'reconnecting'; });
  source.addEventListener('log', (event) => {
    body.prepend(row(JSON.parse(event.data)));
    while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  });
})();
