import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** RSS of a fresh Node process after requiring some modules, split as the kernel counts it. */
export interface StartupCost {
  label: string;
  rssMb: number;
  /** Private memory: V8 heap, malloc. */
  anonMb: number;
  /** Pages of mapped files: the node binary, libvips; shared and reclaimable. */
  fileMb: number;
}

const DIST_SERVER = join(__dirname, '..', '..', 'server');

/**
 * What each dependency adds to a fresh process, cumulatively in the order the daemon meets them:
 * Node alone, Koa and its router, sharp (libvips), exifr, the whole daemon as it starts, then what
 * only some requests need. Cumulative, because the first module to run code pays for the pages of
 * the node binary it touches, whichever it is.
 */
export const STARTUP_STEPS: ReadonlyArray<{ label: string; modules: string[] }> = [
  { label: 'node alone', modules: [] },
  { label: '+ koa, @koa/router', modules: ['koa', '@koa/router'] },
  { label: '+ sharp', modules: ['sharp'] },
  { label: '+ exifr', modules: ['exifr'] },
  { label: '+ the daemon (app, services)', modules: [join(DIST_SERVER, 'app.js'), join(DIST_SERVER, 'services.js')] },
  { label: '+ busboy (first multipart upload)', modules: ['busboy'] },
  { label: '+ ejs, pidusage (dashboard)', modules: ['ejs', 'pidusage'] },
];

/** Runs one fresh process per step, each requiring the modules of every step up to it. */
export function measureStartupCost(): StartupCost[] {
  return STARTUP_STEPS.map((step, i) => {
    const modules = STARTUP_STEPS.slice(0, i + 1).flatMap((s) => s.modules);
    // Two full collections, so that start-up garbage is not counted.
    const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}
      gc(); gc();
      const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
      const kb = (key) => Number(new RegExp(key + ':\\\\s+(\\\\d+)').exec(status)[1]);
      process.stdout.write(JSON.stringify([kb('VmRSS'), kb('RssAnon'), kb('RssFile')]));`;
    const [rss, anon, file] = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      encoding: 'utf8', cwd: join(__dirname, '..', '..', '..'),
    })) as number[];
    return { label: step.label, rssMb: rss / 1024, anonMb: anon / 1024, fileMb: file / 1024 };
  });
}
