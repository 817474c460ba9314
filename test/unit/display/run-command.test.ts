import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OUTPUT_LINES, runCommand } from '../../../server/display/run-command';

/** Runs a shell line as a display command would run (argv, no shell of the daemon's own). */
const run = (script: string) => runCommand(['/bin/sh', '-c', script], { timeoutMs: 60_000, imageId: 'test' });

describe('runCommand keeps a bounded tail of the output', () => {
  it('keeps the last lines, each cut to 500 characters, whatever the command prints', async () => {
    // A megabyte without a newline, then many lines, then a megabyte never ended by one.
    const result = await run(`head -c 1000000 /dev/zero | tr '\\0' a; echo; i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done; head -c 1000000 /dev/zero | tr '\\0' b`);
    assert.equal(result.ok, true);
    assert.equal(result.output.length, OUTPUT_LINES);
    assert.deepEqual(result.output.slice(0, -1), Array.from({ length: OUTPUT_LINES - 1 }, (_, i) => `line ${100 - OUTPUT_LINES + 1 + i}`));
    assert.equal(result.output.at(-1), 'b'.repeat(500));
  });

  it('cuts a megabyte line that ends to 500 characters', async () => {
    const result = await run(`head -c 1000000 /dev/zero | tr '\\0' a; echo; echo done`);
    assert.deepEqual(result.output, ['a'.repeat(500), 'done']);
  });
});
