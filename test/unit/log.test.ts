import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redact, type LogLevel } from '../../server/log';

function capture(level: LogLevel, journald: boolean, secrets: string[] = []) {
  const lines: string[] = [];
  return { lines, log: createLogger({ level, journald, secrets, write: (line) => lines.push(line) }) };
}

describe('log', () => {
  it('masks tokens in query strings and headers, and every configured secret', () => {
    assert.equal(redact('GET /images?access_token=abc123&limit=5'), 'GET /images?access_token=***&limit=5');
    assert.equal(redact('header Authorization: Bearer abc.def'), 'header Authorization: Bearer ***');
    assert.equal(redact('refused token=s3cr3t "x"'), 'refused token=*** "x"');
    assert.equal(redact('the key is hunter22 or hunter22', ['hunter22', '']), 'the key is *** or ***');
  });

  it('drops lines below LOG_LEVEL and prefixes each line with its syslog priority for journald', () => {
    const { lines, log } = capture('warn', true, ['hunter22']);
    log.debug('d');
    log.info('i');
    log.warn('careful');
    log.error('failed: Error: hunter22\n    at frame');
    assert.deepEqual(lines, ['<4>careful', '<3>failed: Error: ***\n<3>    at frame']);
  });

  it('stamps time and level when not under journald', () => {
    const { lines, log } = capture('debug', false);
    log.debug('hello');
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG hello$/);
  });
});
