/**
 * One display frame rendered in a fresh process, measured: the time per frame and the RSS the
 * render adds over the process that holds only the stored image's path. Run as a child by
 * bench-frame.ts (`node frame-render.js <stored.png> <rounds>`), so nothing else in the heap or
 * libvips' cache colours the figure; prints one JSON line.
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
  const [source, roundsText] = process.argv.slice(2);
  // As the daemon runs by default: one libvips thread, no operation cache.
  tuneSharp(DEFAULT_SETTINGS);
  sharp.cache(false);
  const profile = validateDisplays([{ name: 'bench', preset: 'waveshare-13in3-e6' }]).profiles![0];
  // A first frame warms the code paths; it is not counted in the time, but its memory is in the peak.
  await renderFrame(source, profile);
  global.gc?.();
  const baseKb = statusKb('VmRSS');
  // Resets VmHWM to the current RSS, so the peak read after the renders is theirs alone.
  writeFileSync('/proc/self/clear_refs', '5');
  const times: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < Number(roundsText); i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await renderFrame(source, profile);
    times.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
  }
  const peakKb = statusKb('VmHWM');
  process.stdout.write(`${JSON.stringify({ times, cpuMs, baseMb: baseKb / 1024, addedMb: (peakKb - baseKb) / 1024 })}\n`);
}

void main();
