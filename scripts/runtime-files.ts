import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The list of what an installed copy is made of, relative to the checkout. */
export const RUNTIME_FILES_LIST = join('scripts', 'runtime-files.txt');

/**
 * The files and folders the daemon needs at run time, as listed once in
 * scripts/runtime-files.txt (install.sh reads the same list).
 */
export function runtimeFiles(repo: string): string[] {
  return readFileSync(join(repo, RUNTIME_FILES_LIST), 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/**
 * Copies every listed path from the checkout `repo` into `dest`, replacing what is there, so that
 * `dest` holds the program as install.sh would install it, without node_modules.
 * @throws Error naming a listed path that the checkout lacks (say, dist/ before a build).
 */
export function copyRuntimeFiles(repo: string, dest: string): string[] {
  const paths = runtimeFiles(repo);
  const missing = paths.filter((path) => !existsSync(join(repo, path)));
  if (missing.length > 0) throw new Error(`${RUNTIME_FILES_LIST} lists what ${repo} lacks: ${missing.join(', ')} (run npm run build?)`);
  for (const path of paths) {
    rmSync(join(dest, path), { recursive: true, force: true });
    mkdirSync(dirname(join(dest, path)), { recursive: true });
    cpSync(join(repo, path), join(dest, path), { recursive: true });
  }
  return paths;
}
