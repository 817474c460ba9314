import sharp from 'sharp';
import { jpegWithOrientation, photoLike, pngDeclaring, solidPng } from './fixtures';
import type { Prng } from './prng';

/** One hostile request: a raw body with a content type, or a hand-made multipart body. */
export interface FuzzCase {
  name: string;
  body: Buffer;
  contentType: string;
  /** The image files the request carries, to judge a 201 by. */
  images: Buffer[];
}

/** Valid images of every accepted format, small, to be mutated. */
export async function fuzzCorpus(): Promise<Buffer[]> {
  const card = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#369' } });
  return [
    await jpegWithOrientation(6, 96, 64),
    await photoLike(160, 120, 'jpeg', 7),
    await photoLike(120, 90, 'png', 8),
    await photoLike(100, 80, 'webp', 9),
    await solidPng(32, 32),
    await card().tiff().toBuffer(),
    await card().gif().toBuffer(),
    await card().avif().toBuffer(),
  ];
}

const MAGIC: Buffer[] = [
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'),
  Buffer.from([0x49, 0x49, 0x2a, 0x00]),
  Buffer.from('GIF89a', 'latin1'),
  Buffer.from('\0\0\0\x1cftypavif', 'latin1'),
];

/** Makes `count` hostile requests from the corpus, the same ones for the same seed. */
export function fuzzCases(corpus: Buffer[], prng: Prng, count: number): FuzzCase[] {
  const raw = (name: string, body: Buffer, contentType = 'image/jpeg'): FuzzCase => ({ name, body, contentType, images: [body] });
  const makers: Array<() => FuzzCase> = [
    () => raw('bit flips', flipBits(prng.pick(corpus), prng, prng.int(1, 16), 0)),
    () => raw('header bit flips', flipBits(prng.pick(corpus), prng, prng.int(1, 8), 64)),
    () => { const image = prng.pick(corpus); return raw('truncated', image.subarray(0, prng.int(0, image.length - 1))); },
    () => raw('swapped header', Buffer.concat([prng.pick(MAGIC), prng.pick(corpus).subarray(prng.int(2, 12))])),
    () => raw('huge declared size', hugeDeclared(corpus, prng)),
    () => raw('junk spliced in', splice(prng.pick(corpus), prng)),
    () => raw('random bytes', randomBytes(prng, prng.int(1, 4096))),
    () => raw('empty body', Buffer.alloc(0), prng.pick(['image/jpeg', 'application/octet-stream', 'text/plain'])),
    () => raw('wrong content type', prng.pick(corpus), prng.pick(['text/plain', 'application/json', 'image/gif', 'video/mp4', 'x/y; charset=utf-8'])),
    () => multipart('many fields', prng, Array.from({ length: prng.int(17, 2000) }, (_, i) => field(`f${i}`, 'x')), prng.pick(corpus)),
    () => multipart('many tiny files', prng, Array.from({ length: prng.int(17, 400) }, () => file('image', Buffer.from([prng.int(0, 255)])))),
    () => multipart('a mutated image in a form', prng, [file('image', flipBits(prng.pick(corpus), prng, prng.int(1, 8), 0))]),
    () => garbageBoundary(prng, prng.pick(corpus)),
  ];
  return Array.from({ length: count }, () => prng.pick(makers)());
}

function flipBits(image: Buffer, prng: Prng, flips: number, within: number): Buffer {
  const copy = Buffer.from(image);
  const span = within > 0 ? Math.min(within, copy.length) : copy.length;
  for (let i = 0; i < flips; i++) copy[prng.int(0, span - 1)] ^= 1 << prng.int(0, 7);
  return copy;
}

function splice(image: Buffer, prng: Prng): Buffer {
  const at = prng.int(0, image.length);
  return Buffer.concat([image.subarray(0, at), randomBytes(prng, prng.int(1, 512)), image.subarray(at + prng.int(0, 64))]);
}

function randomBytes(prng: Prng, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => prng.int(0, 255)));
}

/** A header that claims far more pixels than max_input_pixels, with almost no data behind it. */
function hugeDeclared(corpus: Buffer[], prng: Prng): Buffer {
  const kind = prng.int(0, 3);
  if (kind === 0) return pngDeclaringSync(prng.int(20_000, 0x7fffffff), prng.int(20_000, 0x7fffffff));
  if (kind === 1) {
    const jpeg = Buffer.from(corpus[1]);
    const sof = jpeg.findIndex((byte, i) => byte === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2));
    jpeg.writeUInt16BE(prng.int(10_000, 65_535), sof + 5);
    jpeg.writeUInt16BE(prng.int(10_000, 65_535), sof + 7);
    return jpeg;
  }
  if (kind === 2) {
    const webp = Buffer.from(corpus[3]);
    webp.writeUInt16LE(0x3fff, 26);
    webp.writeUInt16LE(0x3fff, 28);
    return webp;
  }
  const gif = Buffer.from(corpus[6]);
  gif.writeUInt16LE(65_535, 6);
  gif.writeUInt16LE(65_535, 8);
  return gif;
}

let pngTemplate: Buffer | undefined;
/** {@link pngDeclaring} without awaiting, from a template made once by {@link preparePngTemplate}. */
function pngDeclaringSync(width: number, height: number): Buffer {
  const bomb = Buffer.from(pngTemplate!);
  bomb.writeUInt32BE(width, 16);
  bomb.writeUInt32BE(height, 20);
  return bomb;
}

/** Makes the template {@link fuzzCases} needs for PNG headers; call once before it. */
export async function preparePngTemplate(): Promise<void> {
  pngTemplate = await pngDeclaring(8, 8);
}

type Part = { head: string; body: Buffer; isImage: boolean };
const field = (name: string, value: string): Part => ({ head: `Content-Disposition: form-data; name="${name}"`, body: Buffer.from(value), isImage: false });
const file = (name: string, body: Buffer): Part => ({
  head: `Content-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg`, body, isImage: true,
});

function multipart(name: string, prng: Prng, parts: Part[], image?: Buffer): FuzzCase {
  const boundary = `----fuzz${prng.int(0, 1e9)}`;
  const all = image ? [...parts, file('image', image)] : parts;
  const chunks = all.flatMap((part) => [Buffer.from(`--${boundary}\r\n${part.head}\r\n\r\n`), part.body, Buffer.from('\r\n')]);
  return {
    name,
    body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
    images: all.filter((part) => part.isImage).map((part) => part.body),
  };
}

function garbageBoundary(prng: Prng, image: Buffer): FuzzCase {
  const form = multipart('garbage boundary', prng, [file('image', image)]);
  const variants = [
    'multipart/form-data',
    'multipart/form-data; boundary=',
    `multipart/form-data; boundary=${'x'.repeat(prng.int(71, 5000))}`,
    'multipart/form-data; boundary=not-the-one-used',
    `multipart/form-data; boundary="${String.fromCharCode(prng.int(33, 126))}"`,
  ];
  const body = prng.next() < 0.5 ? form.body : form.body.subarray(0, prng.int(0, form.body.length));
  return { name: 'garbage boundary', body, contentType: prng.pick(variants), images: form.images };
}
