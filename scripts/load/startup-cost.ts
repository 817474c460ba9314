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
    return measureScript(step.label, `${requires(modules)} gc(); gc(); process.stdout.write(JSON.stringify(read()));`);
  });
}

/** The packages the daemon loads only when first used, and what first uses each. */
export const LAZY_MODULES: ReadonlyArray<{ label: string; module: string }> = [
  { label: 'mqtt (mqtt_url set)', module: 'mqtt' },
  { label: 'zod (GET /openapi.json)', module: 'zod' },
  { label: 'protobufjs (first protobuf upload)', module: 'protobufjs' },
  { label: 'busboy (first multipart upload)', module: 'busboy' },
  { label: 'ejs (first page)', module: 'ejs' },
];

/**
 * What each lazily loaded package adds to a fresh process that has loaded the daemon as it starts
 * (app and services), each on its own, with two full collections before and after.
 */
export function measureLazyModuleCost(): StartupCost[] {
  const daemon = [join(DIST_SERVER, 'app.js'), join(DIST_SERVER, 'services.js')];
  return LAZY_MODULES.map(({ label, module }) => measureScript(label, `${requires(daemon)} gc(); gc(); const before = read();
    ${requires([module])} gc(); gc(); process.stdout.write(JSON.stringify(read().map((kb, i) => kb - before[i])));`));
}

function requires(modules: readonly string[]): string {
  return modules.map((m) => `require(${JSON.stringify(m)});`).join('');
}

/**
 * Runs `script` in a fresh process where `read()` gives its VmRSS, RssAnon and RssFile in kB,
 * and takes the three figures it prints as what `label` costs, in MiB.
 */
function measureScript(label: string, script: string): StartupCost {
  const read = `const read = () => { const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
    const kb = (key) => Number(new RegExp(key + ':\\\\s+(\\\\d+)').exec(status)[1]);
    return [kb('VmRSS'), kb('RssAnon'), kb('RssFile')]; };`;
  const [rss, anon, file] = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', `${read} ${script}`], {
    encoding: 'utf8', cwd: join(__dirname, '..', '..', '..'),
  })) as number[];
  return { label, rssMb: rss / 1024, anonMb: anon / 1024, fileMb: file / 1024 };
}
