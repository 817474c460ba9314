import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as errors from '../../server/errors';
import { AppError, ERROR_CATALOG } from '../../server/errors';
import { REPO_ROOT } from '../helpers/repo';

/** One call of every factory in the catalog, with arguments such as its callers pass. */
const SAMPLES: Record<string, () => AppError> = {
  invalidParam: () => errors.invalidParam('limit', 'integer between 1 and 100', 0),
  imageNotFound: () => errors.imageNotFound('20260101T000000Z-abc'),
  routeNotFound: () => errors.routeNotFound('GET', '/nowhere'),
  staticFileNotFound: () => errors.staticFileNotFound('missing.js'),
  internalError: () => errors.internalError(new Error('private detail')),
  tokenRequired: () => errors.tokenRequired(),
  tokenRejected: () => errors.tokenRejected(),
  crossOriginRefused: () => errors.crossOriginRefused('https://evil.example'),
  hostNotAllowed: () => errors.hostNotAllowed('evil.example'),
  jsonBodyRequired: () => errors.jsonBodyRequired(),
  bodyTooLarge: () => errors.bodyTooLarge(65536),
  invalidJson: () => errors.invalidJson('invalid_settings', '{"max_dimension": 800}'),
  uploadTooLarge: () => errors.uploadTooLarge(1024),
  tooManyParts: () => errors.tooManyParts(16, 16),
  jsonTooDeep: () => errors.jsonTooDeep(32),
  headersTooLarge: () => errors.headersTooLarge(),
  malformedRequest: () => errors.malformedRequest('HPE_INVALID_METHOD'),
  requestTimedOut: () => errors.requestTimedOut(),
  overMemoryBudget: () => errors.overMemoryBudget(167, { mb: 256, origin: 'cgroup memory.high' }, 90),
  malformedMultipart: () => errors.malformedMultipart('Unexpected end of form'),
  noImageInForm: () => errors.noImageInForm(['image', 'file']),
  wrongImageCount: () => errors.wrongImageCount(2, ['image1', 'image2'], 1),
  emptyRequestBody: () => errors.emptyRequestBody(),
  clientClosedEarly: () => errors.clientClosedEarly(),
  emptyUpload: () => errors.emptyUpload(),
  notAnImage: () => errors.notAnImage(),
  imageWithoutDimensions: () => errors.imageWithoutDimensions('jpeg'),
  tooManyPixels: () => errors.tooManyPixels(20000, 20000, 100_000_000),
  undecodableImage: () => errors.undecodableImage('png', 'decoded', 'libspng read error'),
  malformedMessage: () => errors.malformedMessage('sensor_msgs/Image', 'truncated tag at byte 3'),
  messageWithoutImage: () => errors.messageWithoutImage('sensor_msgs/CompressedImage'),
  invalidMessageTime: () => errors.invalidMessageTime('sensor_msgs/Image', 1e20, 0),
  frameLengthMismatch: () => errors.frameLengthMismatch('12 bytes (step 6 x height 2) for encoding rgb8', 11),
  notHashedYet: () => errors.notHashedYet(),
  matcherBusy: () => errors.matcherBusy(),
  contentSearchOff: () => errors.contentSearchOff(),
  textSearchOff: () => errors.textSearchOff(),
  notEmbeddedYet: () => errors.notEmbeddedYet(),
  noEmbedding: () => errors.noEmbedding('20260101T000000000-0000-0000'),
  labelsOverMemoryBudget: () => errors.labelsOverMemoryBudget(220),
  malformedFeatures: () => errors.malformedFeatures({ 'features1.descriptors': 'not base64' }),
  compareFormRequired: () => errors.compareFormRequired(),
  displayNotFound: () => errors.displayNotFound('kitchen', 'hall, porch'),
  invalidPreview: () => errors.invalidPreview({ saturation: 'Expected number between 0 and 4 for saturation but received 9 of type number' }),
  tooManyStreams: () => errors.tooManyStreams(32, 'live pages'),
  queueFull: () => errors.queueFull(9, 4),
  tooManyConnections: () => errors.tooManyConnections(32),
  bodyTooSlow: () => errors.bodyTooSlow(1024, 15_000),
  noImageYet: () => errors.noImageYet('door'),
  diskLow: () => errors.diskLow(12, 64),
  diskFull: () => errors.diskFull(Object.assign(new Error('no space'), { code: 'ENOSPC' })),
  diskFailed: () => errors.diskFailed('EIO', new Error('i/o')),
  settingsNotObject: () => errors.settingsNotObject([]),
  invalidSettings: () => errors.invalidSettings({ max_dimension: 'too large' }),
  operatorOnly: () => errors.operatorOnly(['mqtt_url']),
};

/** Exports of server/errors.ts that are not refusals. */
const NOT_FACTORIES = new Set(['AppError', 'describeInvalid']);

/**
 * `new AppError(` whose message argument (up to its options object or the closing parenthesis)
 * holds a string or template literal. A message forwarded from another error is allowed.
 */
function inlineMessages(source: string): string[] {
  const calls = source.matchAll(/new AppError\(\s*[^,]+,\s*([^]*?)(?:,\s*\{|\);|\)\s*:|\)\s*$)/gm);
  return [...calls].filter((call) => /[`'"]/.test(call[1])).map((call) => call[0].split('\n')[0]);
}

describe('error catalog', () => {
  it('has a sample for every factory it exports', () => {
    const factories = Object.entries(errors)
      .filter(([name, value]) => typeof value === 'function' && !NOT_FACTORIES.has(name))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(factories, Object.keys(SAMPLES).sort());
  });

  for (const [name, make] of Object.entries(SAMPLES)) {
    it(`${name} makes an AppError with a catalog code, its status and a message`, () => {
      const error = make();
      assert.ok(error instanceof AppError);
      assert.ok(Object.hasOwn(ERROR_CATALOG, error.code), error.code);
      assert.equal(error.status, ERROR_CATALOG[error.code]);
      assert.equal(typeof error.message, 'string');
      assert.notEqual(error.message.trim(), '');
    });
  }

  it('says the same thing the same way where two subsystems refuse alike', () => {
    assert.equal(errors.tooManyStreams(32, 'log streams').message, 'Already 32 log streams open; close one or retry later');
    assert.equal(errors.tooManyStreams(32, 'live pages').headers?.['Retry-After'], '10');
    assert.equal(errors.malformedMessage('T', 'x'.repeat(300)).message, `The body is not a valid T message: ${'x'.repeat(200)}`);
    assert.equal(errors.internalError(new Error('secret path /etc')).message, 'The server failed to handle the request');
    assert.match(errors.textSearchOff().message, /set clip_model_dir .* in the settings file/);
    assert.equal(errors.textSearchOff().status, 404);
    assert.equal(errors.tokenRejected().headers?.['WWW-Authenticate'], 'Bearer realm="pi-image-receiver", error="invalid_token"');
  });

  it('finds an inline message in any of the shapes the daemon used to write', () => {
    assert.equal(inlineMessages("throw new AppError('busy', 'Full', { headers: {} });").length, 1);
    assert.equal(inlineMessages('throw new AppError(\'not_found\', source ? `From ${source}` : \'None\');').length, 1);
    assert.equal(inlineMessages("throw new AppError('invalid_parameter',\n  `Expected ${n} images`);").length, 1);
    assert.equal(inlineMessages("return new AppError(code, (err as Error).message, { cause: err });").length, 0);
    assert.equal(inlineMessages('throw routeNotFound(ctx.method, ctx.path);').length, 0);
  });

  it('holds every message: no file under server/ outside it constructs an AppError with a literal message', () => {
    const server = join(REPO_ROOT, 'server');
    const files = (readdirSync(server, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .map((file) => `server/${file.split('\\').join('/')}`)
      .filter((file) => file !== 'server/errors.ts' && !file.startsWith('server/errors/'));
    assert.ok(files.length > 50, `only ${files.length} sources found`);
    const inline = files.flatMap((file) => inlineMessages(readFileSync(join(REPO_ROOT, file), 'utf8')).map((call) => `${file}: ${call}`));
    assert.deepEqual(inline, []);
  });
});
