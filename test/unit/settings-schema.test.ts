import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { settingsFileSchema, settingsSchemaText } from '../../scripts/settings-schema';
import { AppError } from '../../server/errors';
import { readSettingsFile, SETTING_KEYS, validateRuntimeUpdate, validateSettingsInput } from '../../server/settings';

/**
 * config/settings.schema.json against the daemon's own reading of a settings file: no JSON Schema
 * validator is installed, so zod's z.fromJSONSchema (as the contract test uses it) checks
 * documents against the schema, and validateSettingsInput must agree with it case by case.
 */

const REPO_ROOT = join(__dirname, '..', '..', '..');
const schema = z.fromJSONSchema(settingsFileSchema() as Parameters<typeof z.fromJSONSchema>[0]);

/** Whether the daemon takes `input` as a settings file's content (the `$schema` line aside). */
function daemonTakes(input: Record<string, unknown>): boolean {
  const { $schema: _schema, ...settings } = input;
  try {
    validateSettingsInput(settings);
    return true;
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_settings') return false;
    throw err;
  }
}

/** Every ```json block of the README and docs/ that is a settings file: an object naming a setting. */
function documentedSettingsFiles(): Array<{ where: string; settings: Record<string, unknown> }> {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];
  return files.flatMap((file) => [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].flatMap(([, block], i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(block);
    } catch {
      return [];
    }
    const isSettings = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      && Object.keys(parsed).some((key) => (SETTING_KEYS as readonly string[]).includes(key));
    return isSettings ? [{ where: `${file} json block ${i + 1}`, settings: parsed as Record<string, unknown> }] : [];
  }));
}

describe('config/settings.schema.json', () => {
  it('is generated from the setting specs', () => {
    const file = readFileSync(join(REPO_ROOT, 'config', 'settings.schema.json'), 'utf8');
    assert.equal(file, settingsSchemaText(), 'config/settings.schema.json differs from the specs: run npm run defaults');
  });

  it('takes config/defaults.json and every settings example of the README and docs/', () => {
    const defaults = JSON.parse(readFileSync(join(REPO_ROOT, 'config', 'defaults.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(defaults), [...SETTING_KEYS]);
    assert.ok(schema.safeParse(defaults).success);
    const examples = documentedSettingsFiles();
    assert.ok(examples.length >= 2, `settings examples found: ${examples.map((e) => e.where).join(', ')}`);
    for (const { where, settings } of examples) {
      const parsed = schema.safeParse(settings);
      assert.ok(parsed.success, `${where}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      assert.ok(daemonTakes(settings), where);
    }
  });

  it('refuses what the daemon refuses, and takes what it takes', () => {
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{ compression_quality: 3, max_image_dimension: 1600 }, true],
      [{ $schema: 'file:///opt/pi-image-receiver/config/settings.schema.json', compression_quality: 3 }, true],
      [{ compression_quality: '6' }, false],
      [{ compression_quality: 12 }, false],
      [{ compression_quality: 6.5 }, false],
      [{ enable_memory_optimization: 'yes' }, false],
      [{ allowed_hosts: ['pi.lan'] }, true],
      [{ allowed_hosts: 'pi.lan' }, false],
      [{ id_log_file: '/var/log/pir-ids' }, true],
      [{ max_image_dimension: 2000, nope: 1 }, false],
      [{ displays: [{ name: 'panel', width: 40, height: 30, palette: 'bw', render: 'on_request' }] }, true],
      [{ displays: [{ name: 'panel', width: 'wide', height: 30 }] }, false],
    ];
    for (const [input, taken] of cases) {
      assert.equal(schema.safeParse(input).success, taken, `schema: ${JSON.stringify(input)}`);
      assert.equal(daemonTakes(input), taken, `daemon: ${JSON.stringify(input)}`);
    }
  });

  it('lets a settings file carry its "$schema" line, and nothing else that is not a setting; POST /config may not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-settings-schema-'));
    try {
      const file = join(dir, 'settings.json');
      await writeFile(file, JSON.stringify({ $schema: 'file:///opt/pi-image-receiver/config/settings.schema.json', compression_quality: 3 }));
      assert.deepEqual(await readSettingsFile(file), { compression_quality: 3 });
      await writeFile(file, JSON.stringify({ $schema: 5, compression_quality: 3 }));
      await assert.rejects(readSettingsFile(file), (err: AppError) => err.code === 'invalid_settings' && err.fields?.$schema !== undefined);
      await writeFile(file, JSON.stringify({ $id: 'x', compression_quality: 3 }));
      await assert.rejects(readSettingsFile(file), (err: AppError) => err.code === 'invalid_settings' && err.fields?.$id !== undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.throws(() => validateRuntimeUpdate({ $schema: 'x', compression_quality: 3 }), (err: AppError) => err.code === 'invalid_settings');
  });
});
