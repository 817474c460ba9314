// One image's page: show it on a display, and delete it once confirmed.
'use strict';
(function () {
  const PIR = window.PIR;
  const page = document.querySelector('[data-image]');
  const id = page.dataset.image;
  const status = document.getElementById('image-status');
  const dialog = document.getElementById('delete-dialog');

  function say(kind, text) {
    status.hidden = false;
    status.className = `notice ${kind}`;
    status.textContent = text;
  }

  for (const button of page.querySelectorAll('[data-show-on]')) {
    button.addEventListener('click', async () => {
      const name = button.dataset.showOn;
      button.disabled = true;
      try {
        const res = await PIR.auth.fetch(`/displays/${encodeURIComponent(name)}/show`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id }),
        });
        const body = await res.json().catch(() => ({}));
        if (res.ok) say('ok', `Sent to ${name}: a panel takes up to a minute to show it.`);
        else say('bad', body.error ? body.error.message : `The daemon answered ${res.status}`);
      } finally {
        button.disabled = false;
      }
    });
  }

  page.querySelector('[data-delete]').addEventListener('click', () => dialog.showModal());
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'delete') return;
    const res = await PIR.auth.fetch(`/images/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.ok) {
      say('ok', 'Deleted.');
      window.location.assign('/');
    } else {
      const body = await res.json().catch(() => ({}));
      say('bad', body.error ? body.error.message : `The daemon answered ${res.status}`);
    }
  });
})();
