// The API token on the browser side: kept in localStorage, sent as "Authorization: Bearer" by
// every fetch and upload, and as ?access_token= where the browser cannot send a header (the live
// stream, images). On a 401 the user is asked once for the token and the request is tried again.
'use strict';
(function () {
  const KEY = 'pi-image-receiver.token';
  let asking = null;

  function token() {
    try {
      return localStorage.getItem(KEY) || '';
    } catch {
      return '';
    }
  }

  function setToken(value) {
    try {
      if (value) localStorage.setItem(KEY, value);
      else localStorage.removeItem(KEY);
    } catch {
      // Private mode without storage: the token lasts as long as the page.
    }
  }

  /** The URL with ?access_token= added when a token is known; same-origin paths stay paths. */
  function withToken(url) {
    const value = token();
    if (!value) return url;
    const parsed = new URL(url, location.href);
    parsed.searchParams.set('access_token', value);
    return parsed.origin === location.origin ? parsed.pathname + parsed.search + parsed.hash : parsed.href;
  }

  function headers(extra) {
    const result = new Headers(extra || {});
    const value = token();
    if (value) result.set('Authorization', `Bearer ${value}`);
    return result;
  }

  /** Asks for the token in a small dialog; every caller waiting at once shares the one dialog. */
  function askToken() {
    if (!asking) asking = showDialog().finally(() => { asking = null; });
    return asking;
  }

  /** A new element with properties and children: el('p', { className: 'muted' }, 'text'). */
  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  }

  function showDialog() {
    return new Promise((resolve) => {
      const input = el('input', { type: 'password', name: 'token', autocomplete: 'current-password', placeholder: 'token', required: true, ariaLabel: 'API token' });
      const cancel = el('button', { type: 'button', textContent: 'Cancel' });
      const form = el('form', { method: 'dialog' },
        el('h2', { textContent: 'API token needed' }),
        el('p', { className: 'muted', textContent: 'This receiver asks for its API token. It is kept in this browser only.' }),
        input,
        el('div', { className: 'actions' }, el('button', { type: 'submit', className: 'primary', textContent: 'Use token' }), cancel));
      const dialog = el('dialog', {}, form);
      document.body.append(dialog);
      const finish = (ok) => {
        dialog.close();
        dialog.remove();
        resolve(ok);
      };
      cancel.addEventListener('click', () => finish(false));
      dialog.addEventListener('cancel', () => finish(false));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        setToken(input.value.trim());
        finish(input.value.trim() !== '');
      });
      dialog.showModal();
      input.focus();
    });
  }

  /** fetch() with the token; on a 401, asks for the token once and tries again. */
  async function apiFetch(url, init = {}) {
    const response = await fetch(url, { ...init, headers: headers(init.headers) });
    if (response.status !== 401 || !(await askToken())) return response;
    return fetch(url, { ...init, headers: headers(init.headers) });
  }

  /**
   * Sends `body` with XMLHttpRequest, for its upload progress (fetch has none); resolves with
   * the status and parsed JSON. A 401 asks for the token once and sends again.
   */
  async function send(method, url, body, { contentType, onProgress } = {}) {
    const once = () => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      headers(contentType ? { 'Content-Type': contentType } : {}).forEach((value, name) => xhr.setRequestHeader(name, value));
      xhr.responseType = 'json';
      if (onProgress) xhr.upload.addEventListener('progress', (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); });
      xhr.addEventListener('load', () => resolve({ status: xhr.status, body: xhr.response }));
      xhr.addEventListener('error', () => reject(new Error('The connection to the receiver failed')));
      xhr.send(body);
    });
    const result = await once();
    if (result.status !== 401 || !(await askToken())) return result;
    return once();
  }

  /** Points `img[data-src]` and `a[data-href]` under `root` at their URLs, with the token if any. */
  function applyUrls(root) {
    for (const img of root.querySelectorAll('img[data-src]')) img.src = withToken(img.dataset.src);
    for (const link of root.querySelectorAll('a[data-href]')) link.href = withToken(link.dataset.href);
  }

  window.PIR = window.PIR || {};
  window.PIR.auth = { token, setToken, withToken, askToken, fetch: apiFetch, send, applyUrls };
  window.PIR.el = el;
  applyUrls(document);
})();
