import { readFileSync } from 'node:fs';

/**
 * The "Key:   1234 kB" lines of a /proc file, in bytes; empty where the file does not exist
 * (not Linux), so that callers fall back to portable figures. The read is synchronous on purpose:
 * the kernel makes these files in memory, and one sync read (about 20 µs) costs a fraction of
 * the four thread-pool round trips of an async readFile, once a second for the daemon's life.
 */
export function readProcFields(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return {};
  }
  const fields: Record<string, number> = {};
  for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) fields[match[1]] = Number(match[2]) * 1024;
  return fields;
}
