import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp } from '../helpers/test-app';

/**
 * /openapi.json as OpenAPI's own tooling reads it: the served document is written to a file and
 * checked by the pinned `redocly lint` with the repository's redocly.yaml (recommended rules, every
 * warning an error). No network: telemetry and the update check are off.
 */

const REPO_ROOT = join(__dirname, '..', '..', '..');
const REDOCLY = join(REPO_ROOT, 'node_modules', '.bin', 'redocly');
/** Generous for a 2-core Pi-class machine; a lint takes about 3 s here. */
const LINT_TIMEOUT_MS = 60_000;

interface LintTotals { errors: number; warnings: number }
interface LintProblem { ruleId: string; message: string }

/** Runs redocly lint over `file`; answers its totals and problems (it exits 1 when there are errors). */
function lint(file: string): Promise<{ totals: LintTotals; problems: LintProblem[] }> {
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [REDOCLY, 'lint', file, '--config', join(REPO_ROOT, 'redocly.yaml'), '--format=json'],
      { env, timeout: LINT_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as { totals: LintTotals; problems: LintProblem[] });
        } catch {
          reject(new Error(`redocly lint gave no report (${error?.message ?? 'exit 0'}): ${stderr.slice(-2000)}`));
        }
      });
  });
}

describe('/openapi.json under redocly lint', () => {
  let dir: string;
  let served: Record<string, unknown>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pir-openapi-lint-'));
    const app = await startTestApp();
    try {
      served = await (await app.fetch('/openapi.json')).json() as Record<string, unknown>;
    } finally {
      await app.destroy();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has no errors and no warnings', async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(served, null, 2));
    const { totals, problems } = await lint(file);
    console.log(`redocly lint: ${totals.errors} errors, ${totals.warnings} warnings`);
    assert.deepEqual(problems.map((p) => `${p.ruleId}: ${p.message}`), []);
    assert.equal(totals.errors, 0);
  });

  it('is a real check: the same document without servers and operationIds fails it', async () => {
    const paths = structuredClone(served.paths) as Record<string, Record<string, { operationId?: string }>>;
    for (const operation of Object.values(paths).flatMap((ops) => Object.values(ops))) delete operation.operationId;
    const file = join(dir, 'broken.json');
    await writeFile(file, JSON.stringify({ ...served, servers: undefined, paths }));
    const { totals, problems } = await lint(file);
    assert.ok(totals.errors > 0);
    assert.ok(problems.some((p) => p.ruleId === 'no-empty-servers'), 'servers are missed');
    assert.ok(problems.some((p) => p.ruleId === 'operation-operationId'), 'operationIds are missed');
  });
});
