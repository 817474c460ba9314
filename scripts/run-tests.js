#!/usr/bin/env node
// Runs every compiled test file under dist/test (or under the folders given) with Node's test
// runner. Node 20's --test takes no globs, so the files are listed here.
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [join(__dirname, '..', 'dist', 'test')];
const files = roots.flatMap(testFiles).sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
