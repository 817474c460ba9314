import { describeInvalid, malformedFeatures, type FieldErrors } from '../errors';
import { DESCRIPTOR_BYTES, type Features, type KeyPoint } from './features';

/** Features as the lost-and-found matcher's clients send and receive them. */
export interface FeaturesJson {
  keypoints_count: number;
  /** The descriptors, row after row, in base64. */
  descriptors: string;
  descriptors_shape: [number, number];
  keypoints: KeyPoint[];
  image_shape: [number, number];
}

/** Most keypoints accepted in one posted feature set: ten times what the daemon extracts. */
const MAX_POSTED_KEYPOINTS = 5000;

/** Features in the matcher's JSON shape. */
export function featuresToJson(features: Features): FeaturesJson {
  const n = features.keypoints.length;
  return {
    keypoints_count: n,
    descriptors: Buffer.from(features.descriptors.buffer, features.descriptors.byteOffset, features.descriptors.byteLength).toString('base64'),
    descriptors_shape: [n, DESCRIPTOR_BYTES],
    keypoints: features.keypoints.map((k) => ({
      x: round(k.x), y: round(k.y), size: round(k.size), angle: round(k.angle), response: round(k.response, 6), octave: k.octave,
    })),
    image_shape: features.imageShape,
  };
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Reads posted feature sets, checking every one and reporting every bad field at once.
 * @throws AppError invalid_parameter with error.fields naming each bad field (features1.descriptors, ...).
 */
export function parseFeatureSets(body: unknown, names: readonly string[]): Features[] {
  const fields: FieldErrors = Object.create(null);
  const object = isObject(body) ? body : {};
  if (!isObject(body)) fields._ = describeInvalid('body', `JSON object with ${names.join(' and ')}`, body);
  const parsed = names.map((name) => parseFeatures(object[name], name, fields));
  const bad = Object.keys(fields);
  if (bad.length > 0) throw malformedFeatures(fields);
  return parsed as Features[];
}

function parseFeatures(value: unknown, name: string, fields: FieldErrors): Features | undefined {
  if (!isObject(value)) {
    fields[name] = describeInvalid(name, 'object with descriptors and keypoints', value);
    return undefined;
  }
  const keypoints = Array.isArray(value.keypoints) ? value.keypoints : undefined;
  if (!keypoints || keypoints.length > MAX_POSTED_KEYPOINTS) {
    fields[`${name}.keypoints`] = describeInvalid(`${name}.keypoints`, `array of at most ${MAX_POSTED_KEYPOINTS} keypoints`, value.keypoints);
  }
  const points = (keypoints ?? []).map((k) => parseKeyPoint(k));
  const badPoint = points.findIndex((p) => p === undefined);
  if (badPoint >= 0) {
    fields[`${name}.keypoints[${badPoint}]`] = describeInvalid(`${name}.keypoints[${badPoint}]`, 'object with numbers x and y (or pt: [x, y])', keypoints![badPoint]);
  }
  const descriptors = typeof value.descriptors === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value.descriptors)
    ? Buffer.from(value.descriptors, 'base64') : undefined;
  const n = keypoints?.length ?? 0;
  if (!descriptors || descriptors.length !== n * DESCRIPTOR_BYTES) {
    fields[`${name}.descriptors`] = describeInvalid(`${name}.descriptors`,
      `base64 of ${n} x ${DESCRIPTOR_BYTES} bytes (one ORB descriptor per keypoint)`, shorten(value.descriptors));
  }
  const shape = value.descriptors_shape;
  if (shape !== undefined && !(Array.isArray(shape) && shape[0] === n && shape[1] === DESCRIPTOR_BYTES)) {
    fields[`${name}.descriptors_shape`] = describeInvalid(`${name}.descriptors_shape`, `[${n}, ${DESCRIPTOR_BYTES}]`, JSON.stringify(shape));
  }
  const imageShape = value.image_shape;
  const validShape = Array.isArray(imageShape) && imageShape.length === 2 && imageShape.every((v) => Number.isInteger(v) && v > 0);
  if (imageShape !== undefined && !validShape) {
    fields[`${name}.image_shape`] = describeInvalid(`${name}.image_shape`, '[height, width] of positive integers', JSON.stringify(imageShape));
  }
  if (!descriptors || badPoint >= 0 || !keypoints) return undefined;
  return {
    keypoints: points as KeyPoint[],
    descriptors: new Uint8Array(descriptors),
    imageShape: validShape ? (imageShape as [number, number]) : [0, 0],
  };
}

function parseKeyPoint(value: unknown): KeyPoint | undefined {
  if (!isObject(value)) return undefined;
  const [x, y] = Array.isArray(value.pt) ? value.pt : [value.x, value.y];
  if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
  const num = (v: unknown): number => (Number.isFinite(v) ? (v as number) : 0);
  return { x, y, size: num(value.size), angle: num(value.angle), response: num(value.response), octave: num(value.octave) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shorten(value: unknown): unknown {
  return typeof value === 'string' && value.length > 40 ? `${value.slice(0, 40)}...` : value;
}
