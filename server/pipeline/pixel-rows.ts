/**
 * Row-by-row conversions of raw camera pixels into the packed RGB, RGBA or grey that sharp takes.
 * Each works from `src` at `from` into `dst` at `to`; `src` and `dst` may be the same buffer at
 * the same offset (in place) when a pixel keeps its size.
 */

/** Copies `count` pixels of `bytes` bytes each, swapping the first and third byte: BGR(A) to RGB(A). */
export function swapRedBlue(src: Buffer, from: number, dst: Buffer, to: number, count: number, bytes: 3 | 4): void {
  for (let i = 0; i < count; i++, from += bytes, to += bytes) {
    const blue = src[from];
    const red = src[from + 2];
    dst[to] = red;
    dst[to + 1] = src[from + 1];
    dst[to + 2] = blue;
    if (bytes === 4) dst[to + 3] = src[from + 3];
  }
}

/** Where Y0, U, Y1 and V sit in each 4-byte group of two pixels. */
const YUV_ORDER = { yuyv: [0, 1, 2, 3], uyvy: [1, 0, 3, 2] } as const;

/**
 * Converts `width` pixels of YUV 4:2:2 (two pixels in four bytes) into RGB, with the full-range
 * BT.601 (JFIF) coefficients that Foxglove's image panel uses, so both show the same colours.
 */
export function yuv422ToRgb(order: 'yuyv' | 'uyvy', src: Buffer, from: number, dst: Buffer, to: number, width: number): void {
  const [y0At, uAt, y1At, vAt] = YUV_ORDER[order];
  for (let x = 0; x < width; x += 2, from += 4, to += 6) {
    const u = src[from + uAt] - 128;
    const v = src[from + vAt] - 128;
    const dr = 1.402 * v;
    const dg = -0.344136 * u - 0.714136 * v;
    const db = 1.772 * u;
    putRgb(dst, to, src[from + y0At], dr, dg, db);
    putRgb(dst, to + 3, src[from + y1At], dr, dg, db);
  }
}

function putRgb(dst: Buffer, at: number, luma: number, dr: number, dg: number, db: number): void {
  dst[at] = clamp(luma + dr);
  dst[at + 1] = clamp(luma + dg);
  dst[at + 2] = clamp(luma + db);
}

function clamp(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/**
 * Bilinear demosaicing of one Bayer row into RGB: the colour a photosite measured is kept, the
 * two missing ones are the mean of the nearest sites that measured them. Borders are mirrored
 * (x = -1 reads x = 1), which keeps the pattern's parity, so the same rule holds at the edges.
 * @param pattern The colour (0 R, 1 G, 2 B) at (0,0), (1,0), (0,1) and (1,1) of the pattern.
 * @param y The row's index, for its place in the pattern.
 */
export function demosaicRow(
  pattern: readonly number[], y: number,
  above: Buffer, row: Buffer, below: Buffer,
  dst: Buffer, to: number, width: number,
): void {
  const rowParity = (y & 1) << 1;
  const otherRowParity = ((y & 1) ^ 1) << 1;
  for (let x = 0; x < width; x++, to += 3) {
    const left = x > 0 ? x - 1 : 1;
    const right = x < width - 1 ? x + 1 : width - 2;
    const colour = pattern[rowParity | (x & 1)];
    dst[to + colour] = row[x];
    if (colour === 1) {
      // A green site: one neighbour colour on its row, the other in its column.
      dst[to + pattern[rowParity | ((x & 1) ^ 1)]] = (row[left] + row[right] + 1) >> 1;
      dst[to + pattern[otherRowParity | (x & 1)]] = (above[x] + below[x] + 1) >> 1;
    } else {
      // A red or blue site: green on the four sides, the opposite colour on the four corners.
      dst[to + 1] = (row[left] + row[right] + above[x] + below[x] + 2) >> 2;
      dst[to + 2 - colour] = (above[left] + above[right] + below[left] + below[right] + 2) >> 2;
    }
  }
}
