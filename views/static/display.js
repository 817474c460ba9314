// The dashboard's Display panel: each panel's current frame and its command's state, refreshed
// from GET /displays every few seconds; and a "Show on display" button on every image card.
'use strict';
(function () {
  const PIR = window.PIR;
  const card = document.querySelector('[data-displays]');
  if (!card) return;
  const REFRESH_MS = 5000;

  function describe(display) {
    const parts = [];
    if (display.running) parts.push(`refreshing with ${display.running.id}`);
    else if (display.shown) parts.push(`showing ${display.shown.id}`);
    else parts.push('nothing shown yet');
    const run = display.last_run;
    if (run) {
      const how = run.ok ? 'ok' : run.timed_out ? 'timed out' : run.error ? run.error : `exit ${run.exit_code ?? run.signal}`;
      parts.push(`last run ${how} in ${(run.duration_ms / 1000).toFixed(1)} s`);
    }
    if (!display.has_command) parts.push('no command: frames only');
    parts.push(`${display.runs} runs, ${display.failures} failed, ${display.skipped} skipped, ${display.pending} waiting`);
    return parts.join(' · ');
  }

  function render(displays) {
    for (const display of displays) {
      const figure = card.querySelector(`[data-display="${CSS.escape(display.name)}"]`);
      if (!figure) continue;
      figure.querySelector('[data-display-state]').textContent = describe(display);
      const img = figure.querySelector('[data-frame]');
      // The image shown may have been deleted since: its frame went with it.
      img.onerror = () => { img.hidden = true; };
      if (display.shown && img.dataset.src !== display.shown.frame_url) {
        img.dataset.src = display.shown.frame_url;
        img.src = PIR.auth.withToken(display.shown.frame_url);
        img.hidden = false;
      }
      const output = figure.querySelector('[data-display-output]');
      // Without the API token (when one is set) the daemon leaves the output out.
      const run = display.last_run;
      const lines = !run ? [] : run.output_hidden ? ['(the output shows with the API token)'] : run.output;
      output.textContent = lines.join('\n');
      output.hidden = lines.length === 0;
    }
  }

  async function refresh() {
    try {
      const res = await PIR.auth.fetch('/displays');
      if (res.ok) render((await res.json()).displays);
    } catch {
      // The daemon restarting: the next refresh tries again.
    }
  }

  const names = [...card.querySelectorAll('[data-display]')].map((figure) => figure.dataset.display);

  /** Adds the button to each image card that lacks it (cards also arrive live). */
  function addButtons(root) {
    for (const item of root.querySelectorAll('li.thumb[data-id]:not([data-show-ready])')) {
      item.dataset.showReady = 'true';
      for (const name of names) {
        const button = PIR.el('button', { type: 'button', className: 'show-on-display', textContent: names.length > 1 ? `Show on ${name}` : 'Show on display' });
        button.addEventListener('click', async () => {
          button.disabled = true;
          const res = await PIR.auth.fetch(`/displays/${encodeURIComponent(name)}/show`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: item.dataset.id }),
          });
          button.textContent = res.ok ? 'Sent to the display' : `Refused (${res.status})`;
          setTimeout(refresh, 500);
        });
        item.append(button);
      }
    }
  }

  const list = document.getElementById('thumbs');
  if (list) {
    addButtons(list);
    new MutationObserver(() => addButtons(list)).observe(list, { childList: true });
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
