import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isOwnHost, isOwnOrigin, machineNames, parseHost } from '../../../server/http/own-host';

const own = (header: string, names: readonly string[] = []): boolean => {
  const host = parseHost(header);
  return host !== undefined && isOwnHost(host, (name) => names.includes(name));
};

describe('own host and own origin', () => {
  it('reads names, IPv4 and IPv6 literals with and without a port, and nothing else', () => {
    assert.deepEqual(parseHost('Pi.Local.:8000'), { name: 'pi.local', port: 8000, ip: false });
    assert.deepEqual(parseHost('192.168.1.20'), { name: '192.168.1.20', ip: true });
    assert.deepEqual(parseHost('[::1]:8000'), { name: '::1', port: 8000, ip: true });
    assert.deepEqual(parseHost('[fe80::1]'), { name: 'fe80::1', ip: true });
    assert.deepEqual(parseHost('::1'), { name: '::1', ip: true });
    for (const bad of ['', 'a b', 'a@b', 'evil.example/x', '[::1', '[nothex]:80', 'x:99999', 'x:', '[::1]x', '..']) {
      assert.equal(parseHost(bad), undefined, bad);
    }
  });

  it('takes IP literals, localhost, .local names and the names given; refuses any other name', () => {
    for (const ok of ['127.0.0.1:8000', '192.168.1.20', '[::1]:8000', '[fe80::1]', 'localhost', 'localhost:8000', 'app.localhost', 'pi.local:8000', 'PI.LOCAL.']) {
      assert.ok(own(ok), ok);
    }
    for (const refused of ['evil.example', 'evil.example:8000', 'localhost.evil.example', 'local', 'pi.local.evil.example', '127.0.0.1.evil.example', 'pi']) {
      assert.ok(!own(refused), refused);
    }
    assert.ok(own('pi:8000', ['pi']));
    assert.ok(own('Evil.Example', ['evil.example']));
  });

  it('counts an origin as its own only with the same host and port as Host, default ports included', () => {
    assert.ok(isOwnOrigin('http://127.0.0.1:8000', '127.0.0.1:8000'));
    assert.ok(isOwnOrigin('http://pi.local', 'pi.local:80'));
    assert.ok(isOwnOrigin('http://pi.local:80', 'pi.local'));
    assert.ok(isOwnOrigin('https://pi.example.net', 'pi.example.net'));
    assert.ok(isOwnOrigin('http://[::1]:8000', '[::1]:8000'));
    assert.ok(isOwnOrigin('http://PI.local:8000', 'pi.LOCAL:8000'));
    assert.ok(!isOwnOrigin('http://127.0.0.1:8001', '127.0.0.1:8000'), 'another port');
    assert.ok(!isOwnOrigin('http://localhost:8000', '127.0.0.1:8000'), 'another name of the same machine');
    assert.ok(!isOwnOrigin('https://pi.example.net', 'pi.example.net:80'), 'https on the http port');
    assert.ok(!isOwnOrigin('null', '127.0.0.1:8000'));
    assert.ok(!isOwnOrigin('file://', 'localhost'));
    assert.ok(!isOwnOrigin('chrome-extension://abc', 'abc'));
    assert.ok(!isOwnOrigin('not a url', '127.0.0.1'));
    assert.ok(!isOwnOrigin('http://127.0.0.1:8000', undefined), 'no Host to compare with');
    assert.ok(!isOwnOrigin('http://127.0.0.1', 'evil@127.0.0.1'), 'a Host that is not a host');
  });

  it('knows the machine by its host name, its first label, and the names /etc/hosts lists with them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pir-hosts-'));
    try {
      const me = hostname().toLowerCase();
      const short = me.split('.')[0];
      const file = join(dir, 'hosts');
      await writeFile(file, `127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.1.1 Pi-Fqdn.Example.Net. ${short} # this machine\n10.0.0.9 other.example\n`);
      const names = machineNames(file);
      for (const name of [me, short, 'pi-fqdn.example.net']) assert.ok(names.has(name), name);
      for (const name of ['other.example', 'ip6-localhost', '']) assert.ok(!names.has(name), name);
      assert.deepEqual([...machineNames(join(dir, 'missing'))].sort(), [...new Set([me, short])].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
