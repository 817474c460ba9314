import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A small display command as an owner would write one: a shell script that appends its arguments
 * to `calls.log` in `dir`, prints `lines` lines, waits while `dir/hold` exists (so a test can keep
 * the panel busy without any clock), and exits with the status in `dir/status` (0 when absent).
 * It records its pid and the pid of a helper it starts in `dir/pids`, for the timeout test.
 */
export async function writeDisplayScript(dir: string): Promise<string> {
  const path = join(dir, 'show.sh');
  await writeFile(path, `#!/bin/sh
dir='${dir}'
echo "$*" >> "$dir/calls.log"
i=1; while [ $i -le "\${LINES_OUT:-3}" ]; do echo "line $i"; i=$((i+1)); done
sleep 600 & helper=$!
echo "$$ $helper" > "$dir/pids"
touch "$dir/started"
while [ -e "$dir/hold" ]; do sleep 0.05; done
kill $helper
exit "$(cat "$dir/status" 2>/dev/null || echo 0)"
`);
  await chmod(path, 0o755);
  return path;
}

/** The argument lines the script was called with, one per run. */
export async function scriptCalls(dir: string): Promise<string[][]> {
  const text = await readFile(join(dir, 'calls.log'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => line.split(' '));
}

/** Resolves once `check` holds, polling every 20 ms, at most `tries` times. */
export async function until(check: () => boolean | Promise<boolean>, what: string, tries = 1500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}
