import { readFileSync } from 'node:fs';
import type { Settings } from '../settings';
import type { StoredImage } from '../storage/image-store';

/** The s3_* settings normalized: the endpoint parsed, AWS's filled in when none is set. */
export interface S3Settings {
  readonly endpoint: URL;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly secretAccessKeyFile: string;
  readonly caFile: string;
}

/** The S3 settings in force, or undefined while s3_bucket is empty (forwarding off). */
export function s3SettingsFrom(settings: Settings): S3Settings | undefined {
  if (!settings.s3_bucket) return undefined;
  const endpoint = settings.s3_endpoint.trim() || `https://s3.${settings.s3_region}.amazonaws.com`;
  return Object.freeze({
    endpoint: new URL(endpoint),
    region: settings.s3_region,
    bucket: settings.s3_bucket,
    prefix: settings.s3_prefix,
    forcePathStyle: settings.s3_force_path_style,
    accessKeyId: settings.s3_access_key_id,
    secretAccessKey: settings.s3_secret_access_key,
    secretAccessKeyFile: settings.s3_secret_access_key_file,
    caFile: settings.s3_ca_file,
  });
}

/**
 * The secret key: s3_secret_access_key, or else the first line of s3_secret_access_key_file, read
 * at every upload so that a fixed or rotated file is picked up without a restart.
 * @throws Error naming the file (never its content) when it cannot be read or neither is set.
 */
export function readSecret(settings: S3Settings): string {
  if (settings.secretAccessKey) return settings.secretAccessKey;
  if (!settings.secretAccessKeyFile) throw new Error('neither s3_secret_access_key nor s3_secret_access_key_file is set');
  try {
    return readFileSync(settings.secretAccessKeyFile, 'utf8').split(/\r?\n/)[0];
  } catch (err) {
    throw new Error(`cannot read s3_secret_access_key_file ${settings.secretAccessKeyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * The key of an image's PNG (`.png`) or record (`.json`): the prefix with {source}, {yyyy}, {mm}
 * and <dd> filled in from the capture date (else the receive date, UTC), then the image's id.
 * The source is cut to characters that need no encoding in a key.
 */
export function objectKey(prefix: string, image: StoredImage, extension: 'png' | 'json'): string {
  const when = new Date(image.captured_at ?? image.received_at);
  const date = Number.isNaN(when.getTime()) ? new Date(image.received_at) : when;
  const two = (n: number): string => String(n).padStart(2, '0');
  const filled = prefix
    .replaceAll('{source}', image.source.replace(/[^A-Za-z0-9._-]/g, '_') || '_')
    .replaceAll('{yyyy}', String(date.getUTCFullYear()))
    .replaceAll('{mm}', two(date.getUTCMonth() + 1))
    .replaceAll('{dd}', two(date.getUTCDate()));
  return `${filled.replace(/^\/+/, '')}${image.id}.${extension}`;
}

/** Where the objects go, for status pages and log lines: never a key. */
export function describeTarget(settings: S3Settings): string {
  const host = settings.endpoint.host;
  return settings.forcePathStyle ? `${settings.endpoint.protocol}//${host}/${settings.bucket}` : `${settings.endpoint.protocol}//${settings.bucket}.${host}`;
}
