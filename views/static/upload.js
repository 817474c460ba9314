// The upload page: pick or drop images, send them one after another with progress, and show
// what the daemon stored (its thumbnail, size and time) or why it refused.
'use strict';
(function () {
  const PIR = window.PIR;
  const zone = document.getElementById('dropzone');
  const picker = document.getElementById('files');
  const sourceInput = document.getElementById('source');
  const list = document.getElementById('uploads');
  const summary = document.getElementById('upload-summary');
  const queue = [];
  let sending = false;
  let stored = 0;
  let failed = 0;

  function row(file) {
    const { el } = PIR;
    const preview = el('img', { className: 'preview', alt: '' });
    const progress = el('progress', { max: 1, value: 0 });
    const status = el('div', { className: 'status', textContent: `${PIR.format.bytes(file.size)} · waiting` });
    const item = el('li', { className: 'upload' }, preview, el('div', {}, el('div', { className: 'name', textContent: file.name }), progress, status));
    list.prepend(item);
    return { item, preview, progress, status };
  }

  function add(files) {
    for (const file of files) queue.push({ file, view: row(file) });
    void drain();
  }

  function updateSummary() {
    summary.textContent = `${stored} stored · ${failed} refused${queue.length ? ` · ${queue.length} waiting` : ''}`;
  }

  async function drain() {
    if (sending) return;
    sending = true;
    while (queue.length > 0) {
      const { file, view } = queue.shift();
      updateSummary();
      await sendOne(file, view);
    }
    sending = false;
    updateSummary();
  }

  async function sendOne(file, view) {
    const source = sourceInput.value.trim();
    const url = `/images${source ? `?source=${encodeURIComponent(source)}` : ''}`;
    view.status.textContent = `${PIR.format.bytes(file.size)} · sending`;
    try {
      const { status, body } = await PIR.auth.send('POST', url, file, {
        contentType: file.type || 'application/octet-stream',
        onProgress: (share) => {
          view.progress.value = share;
          if (share >= 1) view.status.textContent = `${PIR.format.bytes(file.size)} · processing`;
        },
      });
      view.progress.value = 1;
      if (status === 201 && body && body.images) {
        const image = body.images[0];
        stored++;
        view.item.classList.add('done');
        view.preview.dataset.src = `${image.url}/thumbnail`;
        view.preview.alt = `stored image ${image.id}`;
        PIR.auth.applyUrls(view.item);
        const turned = image.rotated ? ', turned upright' : '';
        const resized = image.resized ? `, resized from ${image.original.width} × ${image.original.height}` : '';
        view.status.textContent = `stored ${image.width} × ${image.height} PNG, ${PIR.format.bytes(image.bytes)} in ${image.processing_ms} ms${turned}${resized}`;
      } else {
        failed++;
        view.item.classList.add('failed');
        view.status.textContent = body && body.error ? `refused (${status}): ${body.error.message}` : `refused with status ${status}`;
      }
    } catch (err) {
      failed++;
      view.item.classList.add('failed');
      view.status.textContent = err.message;
    }
  }

  picker.addEventListener('change', () => {
    add([...picker.files]);
    picker.value = '';
  });
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add('over');
    });
  }
  for (const name of ['dragleave', 'drop']) zone.addEventListener(name, () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    add([...event.dataTransfer.files]);
  });
  document.querySelector('[data-action="clear"]').addEventListener('click', () => {
    for (const item of [...list.querySelectorAll('.done, .failed')]) item.remove();
  });
})();
