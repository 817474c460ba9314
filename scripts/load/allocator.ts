import { existsSync } from 'node:fs';

/** Debian's jemalloc (package libjemalloc2), as the systemd unit preloads it when present. */
export const JEMALLOC_PATHS = [
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/arm-linux-gnueabihf/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
];

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
export const ALLOCATORS = ['unit', 'glibc', 'arena2', 'glibc-tuned', 'jemalloc', 'jemalloc-tuned'] as const;
export type Allocator = (typeof ALLOCATORS)[number];

/** The installed jemalloc library, if any. */
export function findJemalloc(): string | undefined {
  return JEMALLOC_PATHS.find((path) => existsSync(path));
}

const CLEAN = { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, MALLOC_CONF: undefined, LD_PRELOAD: undefined };

/**
 * The environment that selects `allocator` for a child process: glibc as it comes, with two
 * arenas, or tuned; jemalloc preloaded as it comes, or tuned; or `unit`, what the systemd unit
 * sets: the glibc and jemalloc variables both, plus the preload when jemalloc is installed.
 * @throws Error when jemalloc is asked for and not installed.
 */
export function allocatorEnv(allocator: Allocator): NodeJS.ProcessEnv {
  const jemalloc = findJemalloc();
  if (allocator.startsWith('jemalloc') && !jemalloc) {
    throw new Error(`jemalloc is not installed (apt-get install libjemalloc2); looked for ${JEMALLOC_PATHS.join(', ')}`);
  }
  switch (allocator) {
    case 'glibc': return CLEAN;
    case 'arena2': return { ...CLEAN, MALLOC_ARENA_MAX: '2' };
    case 'glibc-tuned': return { ...CLEAN, ...GLIBC_TUNED };
    case 'jemalloc': return { ...CLEAN, LD_PRELOAD: jemalloc };
    case 'jemalloc-tuned': return { ...CLEAN, LD_PRELOAD: jemalloc, MALLOC_CONF: JEMALLOC_CONF };
    case 'unit': return { ...GLIBC_TUNED, MALLOC_CONF: JEMALLOC_CONF, LD_PRELOAD: jemalloc };
  }
}

/** Names what `allocatorEnv(allocator)` amounts to on this machine, for reports. */
export function describeAllocator(allocator: Allocator): string {
  if (allocator !== 'unit') return allocator;
  return findJemalloc() ? 'unit (= jemalloc-tuned, jemalloc is installed)' : 'unit (= glibc-tuned, no jemalloc here)';
}
