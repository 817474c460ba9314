/**
 * Writes docs/display-frame.png, docs/display.md's picture of a frame: a photo-like test image with a
 * grey ramp, rendered for a 400x300 Spectra 6 panel with Floyd-Steinberg, exactly as the daemon
 * renders frames. `npm run build && node dist/scripts/frame-sample.js`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderFrame } from '../server/display/frame';
import { validateDisplays } from '../server/display/profiles';
import { photoPixels } from './load/photo-jpeg';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pir-sample-'));
  try {
    const [width, height] = [800, 600];
    const pixels = photoPixels(width, height, 7);
    // The bottom eighth is a black-to-white ramp, to show how tone survives six inks.
    for (let y = Math.floor(height * 0.875); y < height; y++) {
      for (let x = 0; x < width; x++) pixels.fill(Math.round((255 * x) / (width - 1)), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
    const source = join(dir, 'source.png');
    await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toFile(source);
    const profile = validateDisplays([{ name: 'sample', width: 400, height: 300, palette: 'spectra6' }]).profiles![0];
    await writeFile(join(__dirname, '..', '..', 'docs', 'display-frame.png'), await renderFrame(source, profile));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
