import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The checkout's root (tests run from dist/test/...). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Runs a command to completion and returns its exit code and output; never throws. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { code: number | null; stdout: string; stderr: string; missing: boolean } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', missing };
}
