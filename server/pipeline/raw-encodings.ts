import { AppError, describeInvalid, invalidParam } from '../errors';

/** A raw camera frame as a client describes it: ROS / Foxglove names and row stride. */
export interface RawFrameSpec {
  /** Pixel layout, as ROS sensor_msgs/Image and foxglove.RawImage name it, e.g. `bgr8`. */
  encoding: string;
  width: number;
  height: number;
  /** Bytes per row, padding included. @default width x bytes per pixel */
  step?: number;
  /** Only for 16-bit encodings: the samples are big-endian (ROS `is_bigendian`). @default false */
  bigEndian?: boolean;
}

/** How the bytes of one row become pixels for sharp. */
export type RowConversion = 'copy' | 'swap-rb' | 'yuyv' | 'uyvy' | 'bayer';

interface EncodingFacts {
  /** Bytes per pixel in the frame. */
  readonly inBytes: number;
  /** Channels handed to sharp: 1 grey, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 3 | 4;
  /** 16 for mono16: the only encoding with 2-byte samples. */
  readonly bits: 8 | 16;
  readonly conversion: RowConversion;
  /** For Bayer patterns: the colour (0 R, 1 G, 2 B) at (0,0), (1,0), (0,1), (1,1). */
  readonly pattern?: readonly [number, number, number, number];
}

const RGB8: EncodingFacts = { inBytes: 3, channels: 3, bits: 8, conversion: 'copy' };
const BGR8: EncodingFacts = { inBytes: 3, channels: 3, bits: 8, conversion: 'swap-rb' };
const MONO8: EncodingFacts = { inBytes: 1, channels: 1, bits: 8, conversion: 'copy' };
const MONO16: EncodingFacts = { inBytes: 2, channels: 1, bits: 16, conversion: 'copy' };
const YUYV: EncodingFacts = { inBytes: 2, channels: 3, bits: 8, conversion: 'yuyv' };
const UYVY: EncodingFacts = { inBytes: 2, channels: 3, bits: 8, conversion: 'uyvy' };

function bayer(letters: string): EncodingFacts {
  const pattern = [...letters].map((letter) => 'rgb'.indexOf(letter)) as [number, number, number, number];
  return { inBytes: 1, channels: 3, bits: 8, conversion: 'bayer', pattern };
}

/**
 * Every accepted encoding, with the aliases ROS and Foxglove use: `8UC3` is `bgr8` as in ROS's
 * cv_bridge, `yuv422` is UYVY and `yuv422_yuy2` is YUYV as in foxglove.RawImage.
 */
const ENCODINGS: Readonly<Record<string, EncodingFacts>> = {
  rgb8: RGB8,
  bgr8: BGR8,
  '8UC3': BGR8,
  rgba8: { inBytes: 4, channels: 4, bits: 8, conversion: 'copy' },
  bgra8: { inBytes: 4, channels: 4, bits: 8, conversion: 'swap-rb' },
  mono8: MONO8,
  '8UC1': MONO8,
  mono16: MONO16,
  '16UC1': MONO16,
  yuyv: YUYV,
  yuv422_yuy2: YUYV,
  uyvy: UYVY,
  yuv422: UYVY,
  bayer_rggb8: bayer('rggb'),
  bayer_bggr8: bayer('bggr'),
  bayer_gbrg8: bayer('gbrg'),
  bayer_grbg8: bayer('grbg'),
};

/** The accepted encoding names, for documentation and error messages. */
export const RAW_ENCODINGS: readonly string[] = Object.keys(ENCODINGS);

/** A checked frame description: everything needed to read the frame and hand it to sharp. */
export interface RawFrameLayout extends EncodingFacts {
  readonly encoding: string;
  readonly width: number;
  readonly height: number;
  readonly step: number;
  readonly bigEndian: boolean;
  /** Bytes of pixels in one row, without padding. */
  readonly rowBytes: number;
  /** The exact body length the frame must have: step x height. */
  readonly frameBytes: number;
}

/**
 * Checks a frame description and works out its layout.
 * @throws AppError invalid_parameter for an unknown encoding (listing the known ones), a step
 *   shorter than a row, or a size the encoding cannot have (odd width for YUV 4:2:2, Bayer under 2x2).
 */
export function rawFrameLayout(spec: RawFrameSpec): RawFrameLayout {
  const facts = Object.hasOwn(ENCODINGS, spec.encoding) ? ENCODINGS[spec.encoding] : undefined;
  if (!facts) throw invalidParam('encoding', `one of ${RAW_ENCODINGS.join(', ')}`, spec.encoding);
  const { width, height } = spec;
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1) throw invalidParam(name, 'integer of at least 1', value);
  }
  // YUV 4:2:2 shares one U and one V between two horizontal neighbours.
  if (facts.inBytes === 2 && facts.channels === 3 && width % 2 !== 0) {
    throw invalidParam('width', `even number for encoding ${spec.encoding}`, width);
  }
  // Bilinear demosaicing mirrors across the border, which needs a neighbour on each axis.
  if (facts.conversion === 'bayer' && (width < 2 || height < 2)) {
    throw invalidParam(width < 2 ? 'width' : 'height', `at least 2 for encoding ${spec.encoding}`, Math.min(width, height));
  }
  const rowBytes = width * facts.inBytes;
  const step = spec.step ?? rowBytes;
  if (!Number.isInteger(step) || step < rowBytes) {
    throw invalidParam('step', `integer of at least width x ${facts.inBytes} = ${rowBytes} for encoding ${spec.encoding}`, step);
  }
  return { ...facts, encoding: spec.encoding, width, height, step, bigEndian: spec.bigEndian ?? false, rowBytes, frameBytes: step * height };
}

/**
 * Checks that a frame's bytes fill exactly `step` x `height`.
 * @throws AppError invalid_parameter stating the expected and received lengths.
 */
export function checkFrameLength(layout: RawFrameLayout, received: number): void {
  if (received === layout.frameBytes) return;
  const expected = `${layout.frameBytes} bytes (step ${layout.step} x height ${layout.height}) for encoding ${layout.encoding}`;
  throw new AppError('invalid_parameter', describeInvalid('body length', expected, received), {
    fields: { body: describeInvalid('body length', expected, received) },
  });
}
