import { loadSharp } from '../pipeline/sharp-tuning';
import type { ImageLabel } from '../image-labels';

/** The SVG of each label's box and name over an image of `width` × `height`. */
export function boxesSvg(labels: readonly ImageLabel[], width: number, height: number): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const font = Math.max(12, Math.round(Math.min(width, height) / 30));
  const escape = (text: string) => text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const shapes = labels.map(({ name, score, box: [x, y, w, h] }) => {
    const caption = `${escape(name)} ${score.toFixed(2)}`;
    const textY = y >= font + 4 ? y - 4 : y + font + 2;
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ff0" stroke-width="${stroke}"/>`
      + `<text x="${x + 2}" y="${textY}" font-family="sans-serif" font-size="${font}" fill="#ff0" stroke="#000" stroke-width="${Math.max(1, stroke / 2)}" paint-order="stroke">${caption}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
}

/** A stored PNG with its labels' boxes and names drawn over it, as PNG bytes. */
export function drawBoxes(pngFile: string, labels: readonly ImageLabel[], width: number, height: number): Promise<Buffer> {
  // sharp is loaded by the first image work the daemon does itself, not at start.
  return loadSharp()(pngFile).composite([{ input: Buffer.from(boxesSvg(labels, width, height)) }]).png().toBuffer();
}
