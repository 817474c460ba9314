import { loadSharp } from '../pipeline/sharp-tuning';
import { ditherImageAsync, parseHexColour, resolvePalette } from './dither';
import { encodeIndexedPng } from './indexed-png';
import type { DisplayProfile, Fit, RotationMode } from './profiles';

/** Per-image choices that override the profile (the original's `rotation_mode` and `auto_zoom`). */
export interface FrameOverrides {
  rotation_mode?: RotationMode;
  fit?: Fit;
}

/** `auto` turns the picture only when that shows at least this much more of it (the original's 5%). */
export const AUTO_TURN_GAIN = 1.05;

/**
 * Whether the picture is turned a quarter turn (clockwise) onto the panel's native pixels.
 * `landscape` and `portrait` name how the panel hangs on the wall: the picture is laid out in that
 * orientation, so a portrait-native panel in `landscape` always turns it. `auto` compares how much
 * of the picture is shown (cover) or how much of the panel it fills (contain), both being the
 * ratio of the smaller aspect to the larger, and turns when that gains at least 5%.
 */
export function shouldTurn(imageWidth: number, imageHeight: number, panelWidth: number, panelHeight: number, mode: RotationMode): boolean {
  const panelPortrait = panelHeight > panelWidth;
  if (mode === 'landscape') return panelPortrait;
  if (mode === 'portrait') return panelWidth > panelHeight;
  const panel = panelWidth / panelHeight;
  const shown = (aspect: number) => Math.min(aspect, panel) / Math.max(aspect, panel);
  const aspect = imageWidth / imageHeight;
  return shown(1 / aspect) >= shown(aspect) * AUTO_TURN_GAIN;
}

/**
 * Renders the frame of one stored (EXIF-upright) PNG for a panel: turn, fit to exactly
 * width x height, dither to the palette, encode as an indexed PNG whose every pixel is a palette
 * colour. One picture at a time holds the resized RGB, the indices and the PNG rows (about 5 bytes
 * per panel pixel), beside libvips' own buffers.
 */
export async function renderFrame(sourcePath: string, profile: DisplayProfile, overrides: FrameOverrides = {}): Promise<Buffer> {
  const fit = overrides.fit ?? profile.fit;
  const mode = overrides.rotation_mode ?? profile.rotation_mode;
  const { width, height } = profile;
  const [r, g, b] = parseHexColour(profile.background) ?? [255, 255, 255];
  const background = { r, g, b };
  const sharp = loadSharp();
  const meta = await sharp(sourcePath).metadata();
  const turn = shouldTurn(meta.width ?? 1, meta.height ?? 1, width, height, mode);
  // A turned picture is fitted to the panel turned back and turned while dithering (see
  // ditherImage's `turned`): libvips' rotate would keep a whole extra copy of the frame.
  const [fitWidth, fitHeight] = turn ? [height, width] : [width, height];
  const { data, info } = await sharp(sourcePath)
    .flatten({ background })
    .resize(fitWidth, fitHeight, { fit, background, position: 'centre' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== fitWidth || info.height !== fitHeight || info.channels !== 3) {
    throw new Error(`resize gave ${info.width}x${info.height}x${info.channels}, not ${fitWidth}x${fitHeight}x3`);
  }
  const palette = resolvePalette(profile.palette);
  const indices = await ditherImageAsync(data, width, height, { palette, method: profile.dither, saturation: profile.saturation, turned: turn });
  return encodeIndexedPng(indices, width, height, palette);
}
