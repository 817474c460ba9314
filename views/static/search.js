// The search page: posts the dropped image to POST /search (never stored), or asks
// GET /search?text= where CLIP is set up, and shows the matches.
'use strict';
(function () {
  const PIR = window.PIR;
  const { el } = PIR;
  const input = document.getElementById('search-file');
  const zone = document.getElementById('dropzone');
  const list = document.getElementById('search-results');
  const summary = document.getElementById('search-summary');

  function card(result) {
    const image = result.image;
    const item = el('li', { className: 'thumb' },
      el('a', { href: PIR.auth.withToken(image.url), target: '_blank', rel: 'noopener' },
        el('img', { src: PIR.auth.withToken(`${image.url}/thumbnail`), alt: `${image.source} image ${image.id}`, width: 320, height: 240 })),
      el('div', { className: 'thumb-meta' },
        el('span', { className: 'source', textContent: image.source }),
        el('span', { textContent: `${result.distance === undefined ? '' : `distance ${result.distance} · `}similarity ${Math.round(result.similarity * 100)} %` }),
        el('a', { href: `${image.url}/similar`, textContent: 'similar' })));
    if (result.distance !== undefined) item.dataset.distance = String(result.distance);
    return item;
  }

  /** The results and source chosen below the drop zone, as query parameters. */
  function options() {
    const params = new URLSearchParams({ top_k: document.getElementById('search-top-k').value || '8' });
    const source = document.getElementById('search-source').value;
    if (source) params.set('source', source);
    return params;
  }

  async function search(file) {
    summary.textContent = `searching for ${file.name} …`;
    const res = await PIR.auth.fetch(`/search?${options()}`, { method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
    await show(res, file.name);
  }

  async function searchText(text) {
    summary.textContent = `searching for “${text}” …`;
    const params = options();
    params.set('text', text);
    await show(await PIR.auth.fetch(`/search?${params}`), `“${text}”`);
  }

  async function show(res, what) {
    const body = await res.json();
    if (!res.ok) {
      summary.textContent = `${body.error.code}: ${body.error.message}`;
      list.replaceChildren();
      return;
    }
    summary.textContent = `${body.results.length} matches for ${what}`;
    list.replaceChildren(...body.results.map(card));
  }

  const textForm = document.getElementById('text-search');
  textForm?.addEventListener('submit', (event) => {
    event.preventDefault();
    void searchText(document.getElementById('search-text').value);
  });
  input.addEventListener('change', () => { if (input.files[0]) void search(input.files[0]); });
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer.files[0]) void search(event.dataTransfer.files[0]);
  });
})();
