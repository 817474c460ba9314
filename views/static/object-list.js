// Lists of objects on the configuration page (display panels): one card per item, a control per
// field. Every change is written as JSON to the list's hidden input, which the form sends.
'use strict';
(function () {
  const PIR = window.PIR;
  let added = 0;

  /** The value of one card's controls, as the setting takes it. */
  function itemValue(card) {
    const item = {};
    for (const kept of card.querySelectorAll('[data-keep]')) {
      const value = JSON.parse(kept.dataset.value);
      if (value !== null) item[kept.dataset.keep] = value;
    }
    for (const control of card.querySelectorAll('[data-field]')) {
      const field = control.dataset.field;
      // A preset only fills other fields as it is picked; they carry its values.
      if (control.dataset.fills !== undefined) continue;
      const text = control.value.trim();
      if (control.hasAttribute('data-one-of')) {
        item[field] = text === 'custom'
          ? card.querySelector(`[data-custom-of="${field}"]`).value.split(',').map((colour) => colour.trim()).filter(Boolean)
          : text;
      } else if (control.dataset.kind === 'integer' || control.dataset.kind === 'number') {
        // Anything that is not a number goes as typed, so that the daemon names what is wrong.
        if (text !== '') item[field] = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
      } else if (control.dataset.kind === 'json') {
        if (text !== '') {
          try { item[field] = JSON.parse(text); } catch { item[field] = text; }
        }
      } else if (text !== '' || field === 'name') {
        item[field] = text;
      }
    }
    return item;
  }

  /** The colours a card's palette stands for: a named palette's, or the custom list. */
  function paletteColours(card, select) {
    if (select.value === 'custom') {
      const custom = card.querySelector(`[data-custom-of="${select.dataset.field}"]`);
      return custom.value.split(',').map((colour) => colour.trim()).filter((colour) => /^#[0-9a-fA-F]{6}$/.test(colour));
    }
    return JSON.parse(select.dataset.swatches || '{}')[select.value] || [];
  }

  /** Swatches, range readouts and the title follow the controls. */
  function refresh(card) {
    for (const select of card.querySelectorAll('[data-one-of]')) {
      const custom = card.querySelector(`[data-custom-of="${select.dataset.field}"]`);
      custom.hidden = select.value !== 'custom';
      const swatches = card.querySelector(`[data-swatches-of="${select.dataset.field}"]`);
      swatches.replaceChildren(...paletteColours(card, select).map((colour) => {
        const swatch = PIR.el('span', { className: 'swatch', title: colour });
        swatch.style.backgroundColor = colour;
        return swatch;
      }));
    }
    for (const output of card.querySelectorAll('[data-output-of]')) {
      output.textContent = card.querySelector(`[data-field="${output.dataset.outputOf}"]`).value;
    }
    const name = card.querySelector('[data-field="name"]');
    if (name) card.querySelector('[data-item-title]').textContent = name.value || '(new)';
  }

  function setUp(list) {
    const hidden = list.querySelector('input[type="hidden"]');
    const items = list.querySelector('[data-items]');
    const empty = list.querySelector('[data-items-empty]');
    const write = () => {
      hidden.value = JSON.stringify([...items.querySelectorAll('[data-item]')].map(itemValue));
      empty.hidden = items.children.length > 0;
    };
    const watch = (card) => {
      refresh(card);
      card.addEventListener('input', (event) => {
        const fills = event.target.dataset.fills;
        if (fills !== undefined && event.target.value) {
          // A preset fills the fields it names (size, palette), which stay editable.
          for (const [field, value] of Object.entries(JSON.parse(fills)[event.target.value] || {})) {
            const control = card.querySelector(`[data-field="${field}"]`);
            if (control) control.value = String(value);
          }
        }
        refresh(card);
        write();
        card.dispatchEvent(new CustomEvent('item-change', { bubbles: true }));
      });
      card.querySelector('[data-remove-item]').addEventListener('click', () => {
        const label = card.querySelector('[data-item-title]').textContent;
        if (!window.confirm(`Remove ${label}? Nothing is saved until you save the changes.`)) return;
        card.remove();
        write();
        list.querySelector('[data-add-item]').focus();
      });
    };
    for (const card of items.querySelectorAll('[data-item]')) watch(card);
    // "Fill in defaults" sets the list's value itself: the cards follow (a list's default is empty).
    hidden.addEventListener('input', () => {
      if (hidden.value !== '[]') return;
      items.replaceChildren();
      empty.hidden = false;
    });
    list.querySelector('[data-add-item]').addEventListener('click', () => {
      const fragment = list.querySelector('template').content.cloneNode(true);
      added++;
      // Each new card's controls need ids of their own for their labels.
      for (const node of fragment.querySelectorAll('[id]')) node.id = node.id.replace('-new-', `-new${added}-`);
      for (const node of fragment.querySelectorAll('label[for]')) node.htmlFor = node.htmlFor.replace('-new-', `-new${added}-`);
      const card = fragment.querySelector('[data-item]');
      items.append(fragment);
      watch(card);
      write();
      card.querySelector('input, select').focus();
      card.dispatchEvent(new CustomEvent('item-added', { bubbles: true }));
    });
  }

  for (const list of document.querySelectorAll('[data-object-list]')) setUp(list);
  PIR.objectList = { itemValue };
})();
