import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN_JS } from '../../test/helpers/daemon-process';

/** Debian's jemalloc (package libjemalloc2), for each architecture a Pi or this machine may run. */
export const JEMALLOC_PATHS = [
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/arm-linux-gnueabihf/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
];

/** The start wrapper the systemd unit runs: it sets the allocator environment, then execs node. */
export const START_WRAPPER = join(__dirname, '..', '..', '..', 'scripts', 'pi-image-receiver');

/**
 * glibc malloc with two arenas, and every block of 64 KiB or more mapped on its own so that
 * free() hands it back to the kernel at once; otherwise glibc raises that threshold up to 32 MiB
 * as large blocks come and go, and libvips' row buffers stay behind in the arenas.
 */
export const GLIBC_TUNED = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' };

/**
 * jemalloc with two arenas, no per-thread cache (it costs about 4 MB at idle) and a background
 * thread that returns freed pages after a second: without that thread an idle process never
 * purges, so RSS stays at its peak after a burst.
 */
export const JEMALLOC_CONF = 'narenas:2,tcache:false,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';

/** The memory allocator set-ups a load run can give the daemon. */
export const ALLOCATORS = ['npm-start', 'unit', 'recommended', 'glibc', 'arena2', 'glibc-tuned', 'jemalloc', 'jemalloc-tuned'] as const;
export type Allocator = (typeof ALLOCATORS)[number];

/** How to start the daemon: the program and arguments, and the environment on top of ours. */
export interface Launch {
  program: string[];
  env: NodeJS.ProcessEnv;
}

/** The installed jemalloc library, if any. */
export function findJemalloc(): string | undefined {
  return JEMALLOC_PATHS.find((path) => existsSync(path));
}

const CLEAN = { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, MALLOC_CONF: undefined, LD_PRELOAD: undefined, JEMALLOC_LIB: undefined };

/**
 * How to start the daemon with `allocator`: `npm-start` as a user does (npm execs the start
 * wrapper); `unit` through the start wrapper, exactly as the service starts it; `recommended` with the glibc and jemalloc variables both (jemalloc preloaded
 * when installed), as docs/benchmarks.md proposes; or one allocator as it comes or tuned.
 * @throws Error when jemalloc is asked for and not installed.
 */
export function allocatorLaunch(allocator: Allocator): Launch {
  // The wrapper finds node on PATH; give it this one.
  if (allocator === 'unit') return { program: ['sh', START_WRAPPER], env: { ...CLEAN, NODE: process.execPath } };
  if (allocator === 'npm-start') return { program: ['npm', '--prefix', join(START_WRAPPER, '..', '..'), '--silent', 'start'], env: { ...CLEAN, NODE: process.execPath } };
  return { program: [process.execPath, MAIN_JS], env: allocatorEnv(allocator) };
}

/**
 * The allocator environment node runs under with `allocator`: for `npm-start` and `unit`, what
 * the start wrapper sets (the glibc variables, and jemalloc's when it is installed), so that
 * other work (bench.ts's bare sharp) can be run under the same allocator as the daemon.
 * @throws Error when jemalloc is asked for and not installed.
 */
export function allocatorEnv(allocator: Allocator): NodeJS.ProcessEnv {
  const jemalloc = findJemalloc();
  if (allocator.startsWith('jemalloc') && !jemalloc) {
    throw new Error(`jemalloc is not installed (apt-get install libjemalloc2); looked for ${JEMALLOC_PATHS.join(', ')}`);
  }
  const wrapper = { ...GLIBC_TUNED, ...(jemalloc ? { MALLOC_CONF: JEMALLOC_CONF, LD_PRELOAD: jemalloc } : {}) };
  const env = {
    glibc: {},
    arena2: { MALLOC_ARENA_MAX: '2' },
    'glibc-tuned': GLIBC_TUNED,
    jemalloc: { LD_PRELOAD: jemalloc },
    'jemalloc-tuned': { LD_PRELOAD: jemalloc, MALLOC_CONF: JEMALLOC_CONF },
    recommended: wrapper,
    unit: wrapper,
    'npm-start': wrapper,
  }[allocator];
  return { ...CLEAN, ...env };
}

/** Names what `allocatorLaunch(allocator)` amounts to on this machine, for reports. */
export function describeAllocator(allocator: Allocator): string {
  const jemalloc = findJemalloc() ? 'jemalloc is installed' : 'no jemalloc here';
  if (allocator === 'unit') return `unit (the service's start wrapper, scripts/pi-image-receiver; ${jemalloc})`;
  if (allocator === 'npm-start') return `npm-start (npm start, which execs the service's start wrapper; ${jemalloc})`;
  if (allocator === 'recommended') return `recommended (${jemalloc}: ${findJemalloc() ? 'jemalloc-tuned' : 'glibc-tuned'})`;
  return allocator;
}

/**
 * The daemon's own pid below `pid`, the process that was started: npm's child when started with
 * `npm start` (the wrapper execs node, so that child is node itself).
 */
export function daemonPid(pid: number): number {
  for (let depth = 0; depth < 4; depth++) {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/server/main.js')) return pid;
    const [child] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').map(Number);
    if (!child) break;
    pid = child;
  }
  return pid;
}
