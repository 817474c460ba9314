// A live preview on each display panel's card: a stored image of the owner's choice (or one
// dropped on the card, which is stored like any upload) as that panel would show it, from
// GET /images/:id/frame?preview=1 with the card's fields. Nothing is saved until the form is.
'use strict';
(function () {
  const PIR = window.PIR;
  const list = document.querySelector('[data-object-list="displays"]');
  if (!list) return;
  const FIELDS = ['width', 'height', 'palette', 'dither', 'fit', 'rotation_mode', 'background', 'saturation'];
  /** The newest stored images, to choose from; filled once. */
  let choices;

  async function loadChoices() {
    choices ??= PIR.auth.fetch('/images?limit=24').then((res) => (res.ok ? res.json() : { images: [] })).then((body) => body.images);
    return choices;
  }

  function previewUrl(card, id) {
    const item = PIR.objectList.itemValue(card);
    const params = new URLSearchParams({ preview: '1' });
    // A saved panel is previewed over its profile in force; a new one from its fields alone.
    if (card.dataset.savedName) params.set('display', card.dataset.savedName);
    for (const field of FIELDS) {
      const value = item[field];
      if (value === undefined || value === '') continue;
      params.set(field, Array.isArray(value) ? value.join(',') : String(value));
    }
    return PIR.auth.withToken(`/images/${encodeURIComponent(id)}/frame?${params}`);
  }

  async function setUp(card) {
    const picker = PIR.el('select', { className: 'preview-image' });
    const pickerLabel = PIR.el('label', { textContent: 'Preview with' });
    const pickerId = `preview-${Math.random().toString(36).slice(2, 8)}`;
    picker.id = pickerId;
    pickerLabel.htmlFor = pickerId;
    const img = PIR.el('img', { alt: 'Preview of the frame this panel would show', hidden: true });
    const state = PIR.el('p', { className: 'hint', textContent: 'Drop an image here to preview it.' });
    state.setAttribute('role', 'status');
    const figure = PIR.el('figure', { className: 'preview' }, PIR.el('div', { className: 'preview-pick' }, pickerLabel, picker), img, state);
    card.querySelector('.item-fields').after(figure);

    let timer;
    const render = () => {
      clearTimeout(timer);
      // Controls move many times a second: render once they rest.
      timer = setTimeout(() => {
        if (!picker.value) return;
        const item = PIR.objectList.itemValue(card);
        if (!card.dataset.savedName && (item.width === undefined || item.height === undefined)) {
          state.textContent = 'Pick a panel model or give a size to see a preview.';
          return;
        }
        state.textContent = 'Rendering…';
        img.src = previewUrl(card, picker.value);
      }, 250);
    };
    img.addEventListener('load', () => { img.hidden = false; state.textContent = `${img.naturalWidth} × ${img.naturalHeight}, as the panel shows it; not saved`; });
    img.addEventListener('error', async () => {
      // The reason is in the JSON refusal: fetch it again to show it.
      const res = await PIR.auth.fetch(previewUrl(card, picker.value)).catch(() => null);
      const body = res ? await res.json().catch(() => ({})) : {};
      state.textContent = body.error ? body.error.message : 'The preview could not be made.';
    });
    picker.addEventListener('change', render);
    card.addEventListener('item-change', render);

    card.addEventListener('dragover', (event) => { event.preventDefault(); card.classList.add('drop'); });
    card.addEventListener('dragleave', () => card.classList.remove('drop'));
    card.addEventListener('drop', async (event) => {
      event.preventDefault();
      card.classList.remove('drop');
      const file = event.dataTransfer.files[0];
      if (!file) return;
      state.textContent = `Storing ${file.name}…`;
      const res = await PIR.auth.fetch('/images?source=preview', { method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file });
      const body = await res.json().catch(() => ({}));
      if (!res.ok || !body.images || !body.images[0]) {
        state.textContent = body.error ? body.error.message : `The daemon answered ${res.status}`;
        return;
      }
      const id = body.images[0].id;
      picker.prepend(PIR.el('option', { value: id, textContent: `${file.name} (dropped)` }));
      picker.value = id;
      render();
    });

    const images = await loadChoices();
    picker.append(...images.map((image) => PIR.el('option', { value: image.id, textContent: `${image.source} · ${image.received_at.slice(0, 16).replace('T', ' ')}` })));
    if (images.length === 0) state.textContent = 'No stored image yet: drop one here to preview it.';
    render();
  }

  for (const card of list.querySelectorAll('[data-item]')) void setUp(card);
  list.addEventListener('item-added', (event) => void setUp(event.target));
})();
