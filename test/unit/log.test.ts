import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { batchedWrite, createLogger, LineBatch, MAX_LOG_LINE_BYTES, redact, type LogLevel } from '../../server/log';

function capture(level: LogLevel, journald: boolean) {
  const lines: string[] = [];
  return { lines, log: createLogger({ level, journald, write: (line) => lines.push(line) }) };
}

describe('log', () => {
  it('masks credentials by their shape: tokens in queries and headers, password= and URL passwords', () => {
    assert.equal(redact('GET /images?access_token=abc123&limit=5'), 'GET /images?access_token=***&limit=5');
    assert.equal(redact('header Authorization: Bearer abc.def'), 'header Authorization: Bearer ***');
    assert.equal(redact('refused token=s3cr3t "x"'), 'refused token=*** "x"');
    assert.equal(redact('--set mqtt_password=hunter22 next'), '--set mqtt_password=*** next');
    assert.equal(redact('mqtt: cannot reach mqtts://cam:hunter22@broker.lan:8883 now'), 'mqtt: cannot reach mqtts://cam:***@broker.lan:8883 now');
    // Unencoded @, / and ? in a password: masked up to the last @, as a URL parser reads it.
    assert.equal(redact('{"public_url":"https://u:p@s/s?w@host/x"}'), '{"public_url":"https://u:***@host/x"}');
    assert.equal(redact('mqtt://:only-a-password@host'), 'mqtt://:***@host');
    // A user without a password, or a port, is no credential.
    assert.equal(redact('mqtt://cam@broker:1883 and http://pi.local:8080/x'), 'mqtt://cam@broker:1883 and http://pi.local:8080/x');
  });

  it('never compares with a secret: a right and a wrong guess read the same', () => {
    // No list of secrets exists to compare with; the line quotes what it was given.
    assert.equal(redact('GET /guess/hunter22 404'), 'GET /guess/hunter22 404');
  });

  it('masks lines built to make a pattern backtrack, each in one pass', () => {
    // A 64 KiB line (a POST /config body quoted back) of URL starts without an @, or with many:
    // a backtracking pattern takes quadratic time on the first (0.4 s here), this mask one pass.
    const noAt = 'a://a:'.repeat(11_000);
    assert.equal(redact(noAt), noAt);
    assert.equal(redact('a://a:@'.repeat(9_000)), 'a://a:***@');
    assert.equal(redact(`x://u:${'@'.repeat(64_000)}h`), 'x://u:***@h');
  });

  it('cuts a long line, counting what it cut, on a character boundary', () => {
    const { lines, log } = capture('debug', true);
    log.info(`GET /${'é'.repeat(3000)} 404`);
    const [line] = lines;
    const kept = line.slice('<6>'.length, line.indexOf('…'));
    assert.ok(Buffer.byteLength(kept) <= MAX_LOG_LINE_BYTES && Buffer.byteLength(kept) > MAX_LOG_LINE_BYTES - 2);
    assert.ok(!kept.includes('\uFFFD'), 'no character cut in half');
    const total = Buffer.byteLength(`GET /${'é'.repeat(3000)} 404`);
    assert.match(line, new RegExp(`…\\(${total - Buffer.byteLength(kept)} more bytes\\)$`));
    log.info('short');
    assert.equal(lines[1], '<6>short');
  });

  it('masks a URL password before cutting, so a cut never shows half of it', () => {
    const { lines, log } = capture('debug', false);
    const password = 'p'.repeat(3000);
    log.warn(`mqtt: ${'x'.repeat(2000)} mqtt://cam:${password}@broker`);
    assert.ok(!lines[0].includes('pppp'), lines[0].slice(-80));
  });

  it('drops lines below LOG_LEVEL and prefixes each line with its syslog priority for journald', () => {
    const { lines, log } = capture('warn', true);
    log.debug('d');
    log.info('i');
    log.warn('careful');
    log.error('failed: Error: token=hunter22\n    at frame');
    assert.deepEqual(lines, ['<4>careful', '<3>failed: Error: token=***\n<3>    at frame']);
  });

  it('stamps time and level when not under journald', () => {
    const { lines, log } = capture('debug', false);
    log.debug('hello');
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG hello$/);
  });

  it('writes the lines of one turn of the event loop in one write, at its end; an error at once, after those before it', async () => {
    const writes: string[] = [];
    const log = createLogger({ level: 'debug', journald: true, write: batchedWrite(new LineBatch({ write: (text) => writes.push(text) })) });
    // As an upload's: its observers are scheduled for the turn's next phase (where "stored" is
    // logged), then its request line is logged once its handler is done.
    setImmediate(() => log.info('stored'));
    log.info('POST /images 201');
    assert.deepEqual(writes, [], 'nothing written within the turn');
    await nextTurn();
    await nextTurn();
    assert.deepEqual(writes, ['<6>POST /images 201\n<6>stored\n']);
    log.debug('before');
    log.error('failed');
    assert.deepEqual(writes.slice(1), ['<7>before\n<3>failed\n'], 'the error is written before the logger returns');
    await nextTurn();
    assert.equal(writes.length, 2, 'nothing left to write');
  });
});
