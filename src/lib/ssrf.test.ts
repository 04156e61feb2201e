import { afterAll, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressRefusal, BodyTooLargeError, classifyAddress, guardedFetch, isAllowListed, readBounded, SsrfError, type Resolver } from './ssrf';

describe('classifyAddress', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'], ['1.1.1.1', 'public'], ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['fd12::1', 'private'],
    ['172.32.0.1', 'public'],
    ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['100.100.100.200', 'metadata'],
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'],
    ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'], ['192.0.2.7', 'reserved'], ['2001:db8::1', 'reserved'],
    // IPv4 inside IPv6: judged by the IPv4 address.
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.0.0.1', 'private'], ['::ffff:8.8.8.8', 'public'], ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'], ['2002:7f00:1::', 'loopback'], ['2002:a9fe:a9fe::1', 'metadata'],
    // SIIT's IPv4-translated form (RFC 2765) was judged public.
    ['::ffff:0:127.0.0.1', 'loopback'], ['::ffff:0:a9fe:a9fe', 'metadata'], ['::ffff:0:8.8.8.8', 'public'],
    ['not-an-ip', 'reserved'],
  ];
  test.each(cases)('%s → %s', (ip, cls) => expect(classifyAddress(ip)).toBe(cls as never));

  test('policy: loopback and private only when allowed; metadata and link-local never', () => {
    expect(addressRefusal('127.0.0.1', {})).toBe('loopback');
    expect(addressRefusal('127.0.0.1', { allowLoopback: true })).toBeNull();
    expect(addressRefusal('10.1.2.3', { allowLoopback: true })).toBe('private');
    expect(addressRefusal('10.1.2.3', { allowPrivate: true })).toBeNull();
    expect(addressRefusal('169.254.169.254', { allowPrivate: true, allowLoopback: true })).toBe('metadata');
    expect(addressRefusal('fd00:ec2::254', { allowPrivate: true })).toBe('metadata');
    expect(addressRefusal('169.254.3.3', { allowPrivate: true, allowLoopback: true })).toBe('link-local');
    expect(addressRefusal('8.8.8.8', {})).toBeNull();
  });
});

describe('isAllowListed', () => {
  const list = ['img.example.com', '*.cdn.example.net', 'https://static.example.org/pub/', '127.0.0.1'];
  const ok = (u: string) => isAllowListed(new URL(u), list);
  test('hosts, wildcards and prefixes', () => {
    expect(ok('https://img.example.com/a.png')).toBe(true);
    expect(ok('https://IMG.example.com:8443/a.png')).toBe(true);
    expect(ok('https://evil-img.example.com/a.png')).toBe(false);
    expect(ok('https://a.cdn.example.net/x')).toBe(true);
    expect(ok('https://cdn.example.net/x')).toBe(false);
    expect(ok('https://static.example.org/pub/x.jpg')).toBe(true);
    expect(ok('https://static.example.org/pubx.jpg')).toBe(false);
    expect(ok('https://static.example.org/private/x.jpg')).toBe(false);
    expect(ok('http://static.example.org/pub/x.jpg')).toBe(false);
    expect(ok('http://127.0.0.1:9/x')).toBe(true);
    expect(isAllowListed(new URL('https://anything.test/'), undefined)).toBe(true);
  });

  test('a prefix keeps the case of its path: /Pub/ admits /Pub/ only (the whole entry was lower-cased: /Pub/ refused, /pub/ let in)', () => {
    const cased = (u: string) => isAllowListed(new URL(u), ['HTTPS://Static.Example.org/Pub/', 'Img.Example.com']);
    expect(cased('https://static.example.org/Pub/x.jpg')).toBe(true);
    expect(cased('https://static.example.org/pub/x.jpg')).toBe(false);
    expect(cased('https://img.example.com/any/Path.jpg')).toBe(true);
  });
});

describe('guardedFetch', () => {
  const seen: { host: string | null; path: string }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req): Response {
      const u = new URL(req.url);
      seen.push({ host: req.headers.get('host'), path: u.pathname });
      if (u.pathname === '/to-private') return Response.redirect('http://10.0.0.1/secret', 302);
      if (u.pathname === '/to-metadata') return new Response(null, { status: 301, headers: { location: 'http://169.254.169.254/latest/meta-data/' } });
      if (u.pathname === '/to-name') return Response.redirect(`http://internal.test:${server.port}/ok`, 302);
      if (u.pathname === '/to-ok') return Response.redirect('/ok', 307);
      if (u.pathname === '/loop') return Response.redirect('/loop', 302);
      if (u.pathname === '/big') return new Response(new Uint8Array(5000));
      if (u.pathname === '/chunked-big') {
        return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(1000)); } }));
      }
      return new Response('ok');
    },
  });
  afterAll(() => server.stop(true));
  const base = `http://127.0.0.1:${server.port}`;
  /** A resolver that answers from a table and counts its calls (the production path uses the system resolver). */
  const calls: string[] = [];
  const table: Record<string, string> = { 'images.test': '127.0.0.1', 'internal.test': '10.0.0.7', 'mixed.test': '127.0.0.1' };
  const resolver: Resolver = async (name) => {
    calls.push(name);
    if (name === 'mixed.test') return [{ address: '127.0.0.1', family: 4 }, { address: '192.168.0.3', family: 4 }];
    const a = table[name];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address: a, family: 4 }];
  };
  const loopbackPolicy = { allowLoopback: true, resolver };

  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SsrfError);
    return err as SsrfError;
  };

  test('loopback only with the explicit opt-in', async () => {
    expect((await refusal(guardedFetch(`${base}/ok`, { resolver }))).message).toContain('loopback');
    const r = await guardedFetch(`${base}/ok`, loopbackPolicy);
    expect(await r.response.text()).toBe('ok');
  });

  test('literal private, metadata and IPv6 loopback addresses are refused before any connection', async () => {
    const before = seen.length;
    for (const u of ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0x7f.1/', 'http://2130706433/']) {
      const err = await refusal(guardedFetch(u, { resolver }));
      expect(err.reason).toBe('address');
    }
    expect(seen.length).toBe(before);
  });

  test('a name resolving to a private address is refused; one record is enough', async () => {
    expect((await refusal(guardedFetch('http://internal.test/', { ...loopbackPolicy }))).message).toContain('internal.test resolves to 10.0.0.7');
    expect((await refusal(guardedFetch('http://mixed.test/', { ...loopbackPolicy }))).message).toContain('192.168.0.3');
  });

  test('the connection goes to the checked address with the original Host (no second resolution)', async () => {
    calls.length = 0;
    const r = await guardedFetch(`http://images.test:${server.port}/ok`, loopbackPolicy);
    expect(r.address).toBe('127.0.0.1');
    expect(await r.response.text()).toBe('ok');
    expect(calls).toEqual(['images.test']);
    expect(seen.at(-1)).toEqual({ host: `images.test:${server.port}`, path: '/ok' });
  });

  test('redirects are followed by hand and each target is checked', async () => {
    expect((await refusal(guardedFetch(`${base}/to-private`, loopbackPolicy))).address).toBe('10.0.0.1');
    expect((await refusal(guardedFetch(`${base}/to-metadata`, loopbackPolicy))).address).toBe('169.254.169.254');
    expect((await refusal(guardedFetch(`${base}/to-name`, loopbackPolicy))).message).toContain('internal.test resolves to 10.0.0.7');
    expect((await refusal(guardedFetch(`${base}/loop`, { ...loopbackPolicy, maxRedirects: 2 }))).reason).toBe('redirects');
    const ok = await guardedFetch(`${base}/to-ok`, loopbackPolicy);
    expect(ok.url.pathname).toBe('/ok');
    expect(await ok.response.text()).toBe('ok');
  });

  test('the allow-list applies to every hop', async () => {
    const policy = { ...loopbackPolicy, allowList: [`http://127.0.0.1:${server.port}/to-`] };
    expect((await refusal(guardedFetch(`${base}/ok`, policy))).reason).toBe('not-allowed');
    expect((await refusal(guardedFetch(`${base}/to-ok`, policy))).reason).toBe('not-allowed');
  });

  test('schemes and credentials', async () => {
    expect((await refusal(guardedFetch('file:///etc/passwd', loopbackPolicy))).reason).toBe('scheme');
    expect((await refusal(guardedFetch('ftp://127.0.0.1/', loopbackPolicy))).reason).toBe('scheme');
    expect((await refusal(guardedFetch(`http://u:p@127.0.0.1:${server.port}/ok`, loopbackPolicy))).reason).toBe('credentials');
  });

  test('readBounded stops at the byte limit, declared or streamed', async () => {
    const declared = await guardedFetch(`${base}/big`, loopbackPolicy);
    expect(await readBounded(declared.response, 4096).catch((e: unknown) => e)).toBeInstanceOf(BodyTooLargeError);
    const streamed = await guardedFetch(`${base}/chunked-big`, loopbackPolicy);
    expect(await readBounded(streamed.response, 64 * 1024).catch((e: unknown) => e)).toBeInstanceOf(BodyTooLargeError);
    const small = await guardedFetch(`${base}/big`, loopbackPolicy);
    expect((await readBounded(small.response, 5000)).byteLength).toBe(5000);
  });
});

describe('guardedFetch over HTTPS, pinned to the checked address', () => {
  // A certificate for img.example.test only, made for this test (openssl is a Debian base package).
  const dir = mkdtempSync(join(tmpdir(), 'pictor-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '1', '-subj', '/CN=img.example.test', '-addext', 'subjectAltName=DNS:img.example.test'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const server = Bun.serve({
    port: 0, hostname: '127.0.0.1', tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') },
    fetch: (req) => new Response(`${req.headers.get('host')} ${new URL(req.url).hostname}`),
  });
  afterAll(() => {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });
  const resolver: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

  test('the certificate is verified against the host name, not the address connected to', async () => {
    const ok = await guardedFetch(`https://img.example.test:${server.port}/a`, { allowLoopback: true, resolver }, { ca: cert });
    expect(ok.address).toBe('127.0.0.1');
    expect(await ok.response.text()).toBe(`img.example.test:${server.port} img.example.test`);
    // Another name resolving to the same address: the certificate does not cover it.
    const err = await guardedFetch(`https://other.example.test:${server.port}/a`, { allowLoopback: true, resolver }, { ca: cert }).catch((e: unknown) => e);
    expect(String((err as { code?: string }).code ?? err)).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
