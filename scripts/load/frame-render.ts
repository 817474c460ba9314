/**
 * One display frame rendered in a fresh process, measured: the time per frame and the RSS the
 * render adds over the process before it. Run as a child by bench-frame.ts and
 * bench-frame-memory.ts (`node frame-render.js <stored.png> <rounds> [one] [WIDTHxHEIGHT]`; the
 * panel is the Waveshare 13.3" E6 unless a size is given), so nothing else in the heap or libvips'
 * cache colours the figure; prints one JSON line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { renderFrame } from '../../server/display/frame';
import { validateDisplays } from '../../server/display/profiles';
import { tuneSharp } from '../../server/pipeline/sharp-tuning';
import { DEFAULT_SETTINGS } from '../../server/settings';

function statusKb(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : NaN;
}

async function main(): Promise<void> {
  const [source, roundsText, mode, size] = process.argv.slice(2);
  // As the daemon runs by default: one libvips thread, no operation cache.
  tuneSharp(DEFAULT_SETTINGS);
  sharp.cache(false);
  const preset = validateDisplays([{ name: 'bench', preset: 'waveshare-13in3-e6' }]).profiles![0];
  // A size past the largest panel allowed is rendered too (unvalidated), to show what it would cost.
  const [width, height] = size ? size.split('x').map(Number) : [preset.width, preset.height];
  const profile = { ...preset, width, height };
  if (mode === 'one') {
    // One frame in a process that has rendered none: what a frame adds over the daemon at rest,
    // including libvips' and the allocator's first-use costs.
    global.gc?.();
    const before = statusKb('VmRSS');
    writeFileSync('/proc/self/clear_refs', '5');
    await renderFrame(source, profile);
    process.stdout.write(`${JSON.stringify({ addedMb: (statusKb('VmHWM') - before) / 1024 })}\n`);
    return;
  }
  // A first frame warms the code paths; it is not counted.
  await renderFrame(source, profile);
  const times: number[] = [];
  const cpuMs: number[] = [];
  const baseKb = statusKb('VmRSS');
  writeFileSync('/proc/self/clear_refs', '5');
  for (let i = 0; i < Number(roundsText); i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await renderFrame(source, profile);
    times.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
  }
  // Back to back, the peak also holds the garbage of earlier frames V8 has not collected yet.
  const burstAddedMb = (statusKb('VmHWM') - baseKb) / 1024;
  process.stdout.write(`${JSON.stringify({ times, cpuMs, baseMb: baseKb / 1024, burstAddedMb })}\n`);
}

void main();
