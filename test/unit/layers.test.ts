import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/repo';

/**
 * The layers of server/, lowest first: a module may import its own layer and those below it,
 * never one above. docs/architecture.md draws the same list; this is where it is enforced.
 * Each entry is a folder or a file directly under server/.
 */
const LAYERS: ReadonlyArray<{ name: string; members: readonly string[] }> = [
  {
    name: 'base: errors, settings, the log',
    members: ['errors.ts', 'errors', 'setting-kinds.ts', 'setting-specs.ts', 'setting-operator-parts.ts', 'settings.ts', 'display-setting.ts', 'log.ts', 'log-ring.ts', 'credentials.ts', 'atomic-write.ts', 'proc-fields.ts', 'installed-package.ts', 'api-token.ts', 'options.ts', 'image-labels.ts'],
  },
  { name: 'the store and the contracts of its events', members: ['storage', 'store-events.ts'] },
  { name: 'the pipeline steps and message unpacking', members: ['pipeline', 'messages'] },
  { name: 'memory admission and worker processes', members: ['memory', 'workers'] },
  { name: 'the upload flow, consumers, monitoring, thumbnails', members: ['upload', 'consumers', 'monitoring', 'thumbnails'] },
  { name: 'features', members: ['display', 'mqtt', 's3', 'similarity', 'labels'] },
  { name: 'HTTP, and the dependencies handed to it', members: ['http', 'app-deps.ts'] },
  { name: 'the composition root', members: ['app.ts', 'services.ts', 'store-parts.ts', 'main.ts'] },
];

const SERVER = join(REPO_ROOT, 'server');

/** Every module of server/ (the TypeScript sources: type-only imports count too). */
function modules(dir = SERVER): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The server modules `file` imports or re-exports, as paths relative to server/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(?:type\s+)?[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
    const base = resolve(dirname(file), match[1]);
    const path = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
    if (path && path.startsWith(SERVER)) targets.push(relative(SERVER, path));
  }
  return targets;
}

function layerOf(module: string): number {
  const top = module.split('/')[0];
  return LAYERS.findIndex((layer) => layer.members.includes(top));
}

const GRAPH = new Map(modules().map((file) => [relative(SERVER, file), importsOf(file)]));

describe('the import graph of server/', () => {
  it('places every module in a layer', () => {
    assert.deepEqual([...GRAPH.keys()].filter((module) => layerOf(module) < 0), []);
  });

  it('never imports from a higher layer', () => {
    const upward = [...GRAPH].flatMap(([module, targets]) => targets
      .filter((target) => layerOf(target) > layerOf(module))
      .map((target) => `${module} (${LAYERS[layerOf(module)].name}) -> ${target} (${LAYERS[layerOf(target)].name})`));
    assert.deepEqual(upward, []);
  });

  it('has no import cycle', () => {
    // Tarjan's strongly connected components: any with more than one module is a cycle.
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const cycles: string[][] = [];
    const visit = (module: string): void => {
      index.set(module, next);
      low.set(module, next++);
      stack.push(module);
      for (const target of GRAPH.get(module) ?? []) {
        if (!index.has(target)) {
          visit(target);
          low.set(module, Math.min(low.get(module)!, low.get(target)!));
        } else if (stack.includes(target)) {
          low.set(module, Math.min(low.get(module)!, index.get(target)!));
        }
      }
      if (low.get(module) === index.get(module)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          component.push(member);
        } while (member !== module);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const module of GRAPH.keys()) if (!index.has(module)) visit(module);
    assert.deepEqual(cycles, []);
  });

  it('reads the imports of every module, type-only ones included', () => {
    assert.ok(layerOf('http/routes/images.ts') > layerOf('upload/upload-flow.ts'));
    assert.ok((GRAPH.get('http/routes/images.ts') ?? []).includes('upload/upload-flow.ts'), 'imports are read, type-only ones included');
    assert.ok(GRAPH.size > 100, `${GRAPH.size} modules read`);
  });
});
