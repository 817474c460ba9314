#!/usr/bin/env node
// `npm start`'s first half: compiles the daemon when dist/ is missing or older than its sources
// and the TypeScript compiler is installed, then leaves; `npm start` then execs the start wrapper,
// so the daemon runs with the unit's allocator environment and no extra node process stays behind.
// In an installed copy (no server/ sources, no dev dependencies) it has nothing to do.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const APP = join(__dirname, '..');

/** Every source file with the compiled file it becomes. */
function sources(dir, out) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path, join(out, entry.name));
    if (entry.name.endsWith('.d.ts')) return [];
    if (entry.name.endsWith('.ts')) return [[path, join(out, entry.name.replace(/\.ts$/, '.js'))]];
    return [];
  });
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

// A compiled file per source, each at least as new as its source: tsc --incremental rewrites only
// what changed, so comparing with main.js alone would rebuild at every start.
// Only a checkout (with its tsconfig.json) has sources to compare: an installed copy has none.
const checkout = existsSync(join(APP, 'tsconfig.json'));
const pairs = checkout ? sources(join(APP, 'server'), join(APP, 'dist', 'server')) : [];
const built = existsSync(join(APP, 'dist', 'server', 'main.js'));
const stale = pairs.filter(([source, output]) => mtime(output) < mtime(source));
if (built && stale.length === 0) process.exit(0);

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [APP] });
} catch {
  tsc = undefined;
}
if (!tsc || !checkout) {
  if (built) {
    process.stderr.write(`pi-image-receiver: ${relative(APP, stale[0][0])} and ${stale.length - 1} other sources are newer than dist/, but TypeScript is not installed (npm install without --omit=dev); starting the existing build\n`);
    process.exit(0);
  }
  process.stderr.write(`pi-image-receiver cannot start: dist/server/main.js is missing and ${checkout ? 'TypeScript is not installed to build it; run `npm install` then `npm start`' : 'this copy has no sources to build it from; install it again (scripts/install.sh)'}\n`);
  process.exit(1);
}
process.stderr.write(`pi-image-receiver: ${built ? `${stale.length} sources changed` : 'no build yet'}; compiling (tsc -p .) ...\n`);
const result = spawnSync(process.execPath, [tsc, '-p', APP], { cwd: APP, stdio: 'inherit' });
process.exit(result.status ?? 1);
