import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join, resolve } from 'node:path';
import { parseOptions } from '../../server/options';

describe('daemon options', () => {
  it('bounds slow clients by default, and takes the limits from flags or variables', () => {
    const defaults = parseOptions([], {});
    assert.deepEqual(defaults.limits, {
      headersTimeoutMs: 20_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5000, maxConnections: 128,
      maxConnectionsPerClient: 32, minBodyBytesPerSecond: 1024, bodyRateWindowMs: 15_000,
    });
    const set = parseOptions(['--max-connections', '8', '--max-connections-per-client', '3', '--body-rate-window-ms', '2000'], {
      HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '900', KEEP_ALIVE_TIMEOUT_MS: '100', MAX_CONNECTIONS: '99',
      MAX_CONNECTIONS_PER_CLIENT: '7', MIN_BODY_BYTES_PER_SECOND: '64', BODY_RATE_WINDOW_MS: '9000',
    });
    assert.deepEqual(set.limits, {
      headersTimeoutMs: 500, requestTimeoutMs: 900, keepAliveTimeoutMs: 100, maxConnections: 8,
      maxConnectionsPerClient: 3, minBodyBytesPerSecond: 64, bodyRateWindowMs: 2000,
    });
  });

  it('refuses limits that would leave clients unbounded or the server unable to start, naming each', () => {
    assert.throws(() => parseOptions([], {
      MAX_CONNECTIONS: '0', HEADERS_TIMEOUT_MS: 'soon', KEEP_ALIVE_TIMEOUT_MS: '-1',
      MAX_CONNECTIONS_PER_CLIENT: '0', MIN_BODY_BYTES_PER_SECOND: '1.5', BODY_RATE_WINDOW_MS: '',
    }), (err: Error) =>
      ['max-connections must', 'headers-timeout-ms', 'keep-alive-timeout-ms', 'max-connections-per-client', 'min-body-bytes-per-second', 'body-rate-window-ms']
        .every((flag) => err.message.includes(flag)));
    assert.throws(() => parseOptions([], { HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }), /must not exceed request-timeout-ms/);
  });

  it('looks for the token file in the data dir unless told otherwise', () => {
    assert.equal(parseOptions([], { DATA_DIR: '/srv/pir' }).apiTokenFile, join('/srv/pir', 'api-token'));
    assert.equal(parseOptions(['--api-token-file', 'secret'], { DATA_DIR: '/srv/pir' }).apiTokenFile, resolve('secret'));
    assert.equal(parseOptions([], { API_TOKEN_FILE: '/etc/pir/token' }).apiTokenFile, '/etc/pir/token');
  });

  it('takes the command that runs the workers as a JSON array, from the flag or WORKER_EXEC, and refuses anything else', () => {
    assert.equal(parseOptions([], {}).workerExec, undefined);
    const qemu = ['qemu-aarch64-static', '-L', '/arm', '/arm/node'];
    assert.deepEqual(parseOptions([], { WORKER_EXEC: JSON.stringify(qemu) }).workerExec, qemu);
    assert.deepEqual(parseOptions(['--worker-exec', '["/usr/bin/node"]'], { WORKER_EXEC: JSON.stringify(qemu) }).workerExec, ['/usr/bin/node']);
    for (const bad of ['qemu-aarch64-static', '[]', '[""]', '["node", 3]', '{"cmd":"node"}']) {
      assert.throws(() => parseOptions([], { WORKER_EXEC: bad }), /worker-exec must be a JSON array of non-empty strings/, bad);
    }
  });
});
