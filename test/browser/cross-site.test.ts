import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { startTestApp, type TestApp } from '../helpers/test-app';

/** How long a step may take before the test fails, rather than hangs. */
const STEP_MS = 15_000;

/** A name chromium resolves to 127.0.0.1, as a rebinding attacker's DNS would. */
const REBOUND = 'rebound.attacker.example';

/**
 * A second local site, as any web page the operator visits could be: `/` sends the daemon a
 * no-cors fetch with a text/plain JSON body, `/form` posts a text/plain form to it; both mark
 * the page when sent.
 */
function attackerPage(daemon: string): string {
  const body = JSON.stringify({ max_stored_images: 1, compression_quality: 0 });
  return `<!doctype html><title>elsewhere</title><body><script>
    fetch(${JSON.stringify(`${daemon}/config`)}, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(body)} })
      .finally(() => { document.body.dataset.sent = 'yes'; });
  </script></body>`;
}

function attackerForm(daemon: string): string {
  // A text/plain form sends name=value: the name holds the JSON, the value closes a dummy key.
  return `<!doctype html><title>elsewhere</title><body>
    <form method="post" enctype="text/plain" action="${daemon}/config"><input name='{"max_stored_images": 1, "x": "' value='"}'></form>
    <script>document.forms[0].submit();</script></body>`;
}

describe('cross-site requests in chromium', () => {
  let browser: Browser;
  let app: TestApp;
  let elsewhere: Server;
  let elsewhereUrl: string;
  /** The daemon's request log: what it refused, and why. */
  const served: string[] = [];
  const capture = (line: string) => { served.push(line); };

  before(async () => {
    browser = await launchChromium([`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`]);
    app = await startTestApp({ log: { error: capture, warn: capture, info: capture, debug: capture } });
    elsewhere = createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(req.url === '/form' ? attackerForm(app.url) : attackerPage(app.url));
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser?.close();
    await app?.destroy();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  const settings = async () => (await (await app.fetch('/config')).json()) as { max_stored_images: number; compression_quality: number };
  const refusals = () => served.filter((line) => /^POST \/config 403 .* cross_origin_refused: /.test(line));

  it('saves a setting from the daemon\'s own configuration page, which sends its own Origin', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await page.goto(`${app.url}/config`);
      await page.fill('input[name="compression_quality"]', '2');
      const save = page.waitForRequest((request) => request.method() === 'POST');
      await page.click('button[type="submit"]');
      await page.waitForSelector('#form-status.ok');
      assert.equal((await settings()).compression_quality, 2);
      const headers = await (await save).allHeaders();
      assert.equal(headers.origin, app.url, 'the save carried the page\'s origin, and was taken');
      assert.match(headers['content-type'], /^application\/json/);
    } finally {
      await page.close();
      await app.deps.settings.update({ compression_quality: 6 });
    }
  });

  it('changes nothing when a page of another site posts text/plain JSON with no-cors, or submits a text/plain form', async () => {
    const before = await settings();
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      await page.goto(`${elsewhereUrl}/`);
      await page.waitForSelector('body[data-sent="yes"]', { state: 'attached' });
      const response = page.waitForResponse(`${app.url}/config`);
      await page.goto(`${elsewhereUrl}/form`);
      assert.equal((await response).status(), 403);
    } finally {
      await page.close();
    }
    assert.deepEqual(await settings(), before);
    assert.equal(refusals().length, 2, served.join('\n'));
  });

  it('refuses a page reached through a rebound DNS name, and its same-origin change', async () => {
    const before = await settings();
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_MS);
    try {
      const rebound = `http://${REBOUND}:${new URL(app.url).port}`;
      const answer = await page.goto(`${rebound}/`);
      assert.equal(answer?.status(), 403);
      assert.match(await page.textContent('body') ?? '', /allowed_hosts/);
      // To chromium this is the page's own origin: only the Host says it is not the daemon's name.
      const status = await page.evaluate(async (url) => (await fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"max_stored_images": 1}',
      })).status, `${rebound}/config`);
      assert.equal(status, 403);
    } finally {
      await page.close();
    }
    assert.deepEqual(await settings(), before);
    assert.ok(served.some((line) => /^POST \/config 403 .* host_not_allowed: Host "rebound\.attacker\.example"/.test(line)), served.join('\n'));
  });
});
