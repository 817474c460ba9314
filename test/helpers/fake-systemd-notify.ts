import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Records each call's arguments, tab-separated, one line per call written at once (so calls
// cannot interleave), and "start"/"end" events in <log>.events; sleeps FAKE_NOTIFY_SLEEP seconds
// and fails with FAKE_NOTIFY_FAIL on stderr when asked.
const SCRIPT = `#!/bin/sh
echo "start" >> "$FAKE_NOTIFY_LOG.events"
[ -n "$FAKE_NOTIFY_SLEEP" ] && sleep "$FAKE_NOTIFY_SLEEP"
line=$(printf '%s\\t' "$@")
echo "$line" >> "$FAKE_NOTIFY_LOG"
echo "end" >> "$FAKE_NOTIFY_LOG.events"
[ -n "$FAKE_NOTIFY_FAIL" ] && { echo "$FAKE_NOTIFY_FAIL" >&2; exit 3; }
exit 0
`;

/**
 * Writes a stand-in `systemd-notify` into `dir` and returns the environment that puts it first on
 * PATH, with NOTIFY_SOCKET set, recording into `log`.
 */
export async function installFakeSystemdNotify(dir: string, log: string): Promise<NodeJS.ProcessEnv> {
  await writeFile(join(dir, 'systemd-notify'), SCRIPT);
  await chmod(join(dir, 'systemd-notify'), 0o755);
  return { PATH: `${dir}:${process.env.PATH}`, NOTIFY_SOCKET: '/run/fake/notify', FAKE_NOTIFY_LOG: log };
}

/** The recorded calls, each as its argument list. */
export async function notifyCalls(log: string): Promise<string[][]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => line.split('\t').filter(Boolean));
}

/** The recorded "start" and "end" events, in order. */
export async function notifyEvents(log: string): Promise<string[]> {
  return (await readFile(`${log}.events`, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

/** Polls `check` every 20 ms, failing after about 10 s. */
export async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
