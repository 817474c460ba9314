import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientOf } from '../../../server/http/cap-connections-per-client';
import { watchBodyRate } from '../../../server/http/min-body-rate';

/** A request as watchBodyRate sees it: the connection's byte count, its buffer and whether it is complete. */
function fakeRequest(): IncomingMessage & { socket: { bytesRead: number; destroyed: boolean } } {
  return { complete: false, readableLength: 0, socket: { bytesRead: 0, destroyed: false } } as never;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('watchBodyRate', () => {
  const limit = { minBytesPerSecond: 1000, windowMs: 100 };

  it('calls onTooSlow once when a whole window passes with too few bytes', async () => {
    const req = fakeRequest();
    const rates: number[] = [];
    const stop = watchBodyRate(req, limit, (rate) => rates.push(rate));
    try {
      for (let i = 0; i < 50 && rates.length === 0; i++) await sleep(20);
      await sleep(100);
      assert.equal(rates.length, 1);
      assert.ok(rates[0] < limit.minBytesPerSecond);
    } finally {
      stop();
    }
  });

  it('does not judge the client while received bytes wait for the daemon to read them', async () => {
    const req = fakeRequest();
    (req as { readableLength: number }).readableLength = 16_384;
    let cut = false;
    const stop = watchBodyRate(req, limit, () => { cut = true; });
    await sleep(5 * limit.windowMs);
    stop();
    assert.equal(cut, false);
  });

  it('lets a body that keeps up run, and stops watching once it is complete', async () => {
    const req = fakeRequest();
    let cut = false;
    const stop = watchBodyRate(req, limit, () => { cut = true; });
    // 100 bytes every 10 ms is about 10,000 bytes a second, far above the minimum.
    const feeder = setInterval(() => { req.socket.bytesRead += 100; }, 10);
    await sleep(4 * limit.windowMs);
    clearInterval(feeder);
    (req as { complete: boolean }).complete = true;
    await sleep(3 * limit.windowMs);
    stop();
    assert.equal(cut, false);
  });
});

describe('clientOf', () => {
  it('counts an IPv4 address as itself, in IPv6 form too, and an IPv6 address by its /64', () => {
    assert.equal(clientOf('192.168.1.20'), '192.168.1.20');
    assert.equal(clientOf('::ffff:192.168.1.20'), '192.168.1.20');
    assert.equal(clientOf('2001:db8:0:12:a:b:c:d'), '2001:db8:0:12::/64');
    assert.equal(clientOf('2001:0db8::12:1'), clientOf('2001:db8:0:0:1:2:3:4'));
    assert.equal(clientOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(clientOf('::1'), '0:0:0:0::/64');
    assert.notEqual(clientOf('2001:db8:0:12::1'), clientOf('2001:db8:0:13::1'));
    assert.equal(clientOf(undefined), 'unknown');
  });
});
