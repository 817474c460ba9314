import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium; the browser tests and `npm run screenshot` drive it, never a downloaded one. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Starts headless chromium, with `args` added to its command line.
 * @throws Error saying how to install chromium when it is missing, so that the browser tests fail
 * loudly instead of being skipped.
 */
export async function launchChromium(args: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...args],
  });
}
