// The configuration form: sends only the settings that changed to POST /config, the same
// validation as any script gets, and shows each field's error beside it.
'use strict';
(function () {
  const PIR = window.PIR;
  const form = document.getElementById('settings-form');
  const status = document.getElementById('form-status');
  let current = JSON.parse(form.dataset.current);
  // Operator-only settings have no input: only the settings file, environment or a flag sets them.
  const inputs = [...form.querySelectorAll('[name]')];

  /**
   * The form's value of one input: booleans from the box, text as typed, lists and objects as
   * JSON, integers when the text is one.
   */
  function valueOf(input) {
    if (input.dataset.kind === 'boolean') return input.checked;
    if (input.dataset.kind === 'string' || input.dataset.kind === 'enum') return input.value;
    if (input.dataset.kind === 'json') {
      try {
        return JSON.parse(input.value);
      } catch {
        return input.value;
      }
    }
    const text = input.value.trim();
    if (text === '') return null;
    // Anything else goes as typed, so that the daemon names what is wrong with it.
    return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  }

  function say(kind, text) {
    status.hidden = false;
    status.className = `notice ${kind}`;
    status.textContent = text;
  }

  function showErrors(fields) {
    for (const input of inputs) {
      const slot = document.getElementById(`error-${input.name}`);
      // A list or object setting gets the reasons of its parts too (displays[0].width).
      const message = Object.keys(fields)
        .filter((key) => key === input.name || key.startsWith(`${input.name}[`) || key.startsWith(`${input.name}.`))
        .map((key) => fields[key]).join('; ');
      slot.hidden = !message;
      slot.textContent = message || '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const update = {};
    for (const input of inputs) {
      const value = valueOf(input);
      if (JSON.stringify(value) !== JSON.stringify(current[input.name])) update[input.name] = value;
    }
    if (Object.keys(update).length === 0) {
      showErrors({});
      say('ok', 'Nothing changed.');
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const response = await PIR.auth.fetch('/config', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(update),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        current = body.config;
        showErrors({});
        say('ok', `Saved: ${Object.keys(update).join(', ')}. It applies to the next image.`);
      } else {
        const error = body.error || { message: `The daemon answered ${response.status}` };
        showErrors(error.fields || {});
        say('bad', error.fields ? 'Nothing was saved: fix the fields marked below.' : error.message);
        const first = inputs.find((input) => input.getAttribute('aria-invalid') === 'true');
        if (first) first.focus();
      }
    } catch (err) {
      say('bad', `Could not reach the daemon: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });

  // Beside each number: its unit, byte sizes in binary units, and what 0 stands for ("automatic").
  for (const unit of form.querySelectorAll('[data-unit-of]')) {
    const input = document.getElementById(`setting-${unit.dataset.unitOf}`);
    input.addEventListener('input', () => {
      const text = input.value.trim();
      const value = Number(text);
      if (text === '0' && unit.dataset.zero) unit.textContent = unit.dataset.zero;
      else if (input.hasAttribute('data-bytes')) unit.textContent = text !== '' && Number.isFinite(value) ? `bytes = ${PIR.format.bytes(value)}` : 'bytes';
      else unit.textContent = unit.dataset.unit;
    });
  }
  // An empty text setting: say what empty stands for.
  for (const note of form.querySelectorAll('p.now[data-zero]')) {
    const input = note.previousElementSibling;
    input.addEventListener('input', () => { note.hidden = input.value !== ''; });
  }

  form.querySelector('[data-action="defaults"]').addEventListener('click', () => {
    for (const input of inputs) {
      if (input.dataset.kind === 'boolean') input.checked = input.dataset.default === 'true';
      else input.value = input.dataset.default;
      input.dispatchEvent(new Event('input'));
    }
    say('ok', 'Defaults filled in; save to apply them.');
  });
})();
