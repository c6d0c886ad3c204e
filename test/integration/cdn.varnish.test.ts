import { createHash, randomBytes } from 'node:crypto';

import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/redis-server';
import { ALICE, BOB, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';
import { TcpRelay, Varnish } from '../helpers/varnish';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * Debian's Varnish with the shipped VCL (deploy/varnish/default.vcl) in front of a gateway that
 * forwards its invalidations to it as purges. The purges go through a relay that the last test
 * cuts: a CDN the gateway cannot reach for a while, whose cache stays.
 */
describe('Varnish in front of the gateway (deploy/varnish/default.vcl)', () => {
  const prefix = `test_${randomBytes(4).toString('hex')}`;
  let gw: TestGateway;
  let varnish: Varnish;
  let relay: TcpRelay;

  beforeAll(async () => {
    const varnishPort = await freePort();
    relay = await TcpRelay.start(varnishPort);
    gw = await startTestGateway({
      CACHE_KEY_PREFIX: prefix,
      CDN_PURGE_URL: relay.url,
      CDN_S_MAXAGE_SECONDS: '600',
      // Small, so that a page of signals collapses its Signal tags into Signal:~.
      CDN_SURROGATE_KEY_MAX_BYTES: '256',
      CDN_PURGE_MAX_RETRY_DELAY_MS: '200',
    });
    varnish = await Varnish.start({ backendPort: Number(new URL(gw.url).port), port: varnishPort });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([varnish?.stop(), relay?.cut()]);
    await gw?.close();
  });

  const sent = async (response: Response): Promise<Answer> => ({ status: response.status, headers: response.headers, text: await response.text() });
  /** A GET as a front end sends it (a JSON Accept, Apollo's preflight header), through Varnish or straight to the gateway. */
  const get = async (base: string, search: string, headers: Record<string, string> = {}) =>
    sent(await fetch(`${base}/graphql?${search}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true', ...headers } }));
  const query = (text: string) => `query=${encodeURIComponent(text)}`;
  const viaVarnish = (text: string, headers: Record<string, string> = {}) => get(varnish.url, query(text), headers);
  const post = async (base: string, text: string, token = TEST_ADMIN_TOKEN) =>
    sent(await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: text }) }));
  /** Requests the gateway's response cache has answered or executed: whether a request reached the gateway. */
  const gatewayAnswers = () => {
    const metrics = gw.gateway.responseCache!.metrics();
    return metrics.hits + metrics.misses;
  };
  const cdnCache = (answer: Answer) => answer.headers.get('x-varnish-cache');
  const userQuery = (id: number) => `{ user(id: ${id}) { id username displayName } }`;
  const displayNameOf = (answer: Answer) => (JSON.parse(answer.text) as { data: { user: { displayName: string } } }).data.user.displayName;
  const ready = async () => (await (await fetch(`${gw.url}/health/ready`)).json()) as { cdn_purger: { status: string; pending: number; unreachable_since?: string } };

  it('serves a public GET from Varnish the second time: the same bytes, its own Age, without reaching the gateway', async () => {
    const first = await viaVarnish(userQuery(21));
    const before = gatewayAnswers();
    const second = await viaVarnish(userQuery(21));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([cdnCache(first), cdnCache(second)]).toEqual(['MISS', 'HIT']);
    expect(gatewayAnswers()).toBe(before);
    expect(second.text).toBe(first.text);
    // Two transaction ids on a hit: this request's and the one that stored the object.
    expect(second.headers.get('x-varnish')).toMatch(/^\d+ \d+$/);
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(second.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=600');
    // The tags are for purging in Varnish; the gateway itself names them.
    expect(second.headers.get('surrogate-key')).toBeNull();
    const direct = await get(gw.url, query(userQuery(21)));
    expect(direct.headers.get('surrogate-key')!.split(' ').sort()).toEqual(['User', 'User:21']);
    expect(direct.headers.get('vary')).toBe('accept');
  });

  it('answers a viewer with a token from the public copy too: a public answer is the same for every viewer', async () => {
    await viaVarnish(userQuery(26));
    const withToken = await viaVarnish(userQuery(26), { authorization: `Bearer ${ALICE}` });
    expect(cdnCache(withToken)).toBe('HIT');
  });

  it('never stores a private answer: each viewer gets their own from the gateway, every time', async () => {
    const me = '{ me { id username } }';
    const before = gatewayAnswers();
    const alice = [await viaVarnish(me, { authorization: `Bearer ${ALICE}` }), await viaVarnish(me, { authorization: `Bearer ${ALICE}` })];
    const bob = await viaVarnish(me, { authorization: `Bearer ${BOB}` });
    expect(gatewayAnswers()).toBe(before + 3);
    for (const answer of [...alice, bob]) {
      expect(cdnCache(answer)).not.toBe('HIT');
      expect(answer.headers.get('cache-control')).toMatch(/^private\b/);
    }
    expect(JSON.parse(alice[1]!.text)).toEqual(JSON.parse(alice[0]!.text));
    expect(JSON.parse(bob.text)).not.toEqual(JSON.parse(alice[0]!.text));
    expect(alice[0]!.headers.get('vary')).toBe('accept, authorization');
  });

  it('purges by tag on a mutation: the next read through Varnish is fresh, and other cached answers stay', async () => {
    for (const id of [22, 23]) {
      await viaVarnish(userQuery(id));
      expect(cdnCache(await viaVarnish(userQuery(id)))).toBe('HIT');
    }
    const purgesBefore = purgesTaken(await metricsText());
    // Through Varnish, which passes a POST: the answer comes once the purge has been taken.
    const mutation = await post(varnish.url, 'mutation { updateUser(id: 22, input: { displayName: "Purged Twenty-Two" }) { id displayName } }');
    expect(mutation.status).toBe(200);
    expect(cdnCache(mutation)).toBe('PASS');
    const fresh = await viaVarnish(userQuery(22));
    expect(cdnCache(fresh)).toBe('MISS');
    expect(displayNameOf(fresh)).toBe('Purged Twenty-Two');
    expect(cdnCache(await viaVarnish(userQuery(23)))).toBe('HIT');
    expect(purgesTaken(await metricsText())).toBeGreaterThan(purgesBefore);
  });

  it('purges exactly: Signal:1 leaves Signal:10, and a list name with * leaves its neighbour', async () => {
    const signal = (id: number) => `{ signal(id: ${id}) { id status } }`;
    const list = (status: string) => `{ signalsConnection(symbol: "EUR_USD", first: 1${status}) { totalCount } }`;
    const texts = [signal(1), signal(10), list(''), list(', status: ACTIVE')];
    for (const text of texts) await viaVarnish(text);
    for (const text of texts) expect(cdnCache(await viaVarnish(text))).toBe('HIT');
    const tagsOf = async (text: string) => (await get(gw.url, query(text))).headers.get('surrogate-key')!.split(' ');
    const allStatuses = (await tagsOf(list(''))).find((tag) => tag.startsWith('SignalList:'))!;
    expect(allStatuses).toBe('SignalList:EUR_USD/*/*/*/*');
    const purge = await fetch(varnish.url, { method: 'PURGE', headers: { 'surrogate-key': `Signal:1 ${allStatuses}` } });
    expect(purge.status).toBe(200);
    expect(await Promise.all(texts.map(async (text) => cdnCache(await viaVarnish(text))))).toEqual(['MISS', 'HIT', 'MISS', 'HIT']);
  });

  it('purges a page whose signal tags were collapsed (Signal:~) when one of its signals changes', async () => {
    // Status changes keep the members of lists open on status, so no list tag names this page: only its signals' tags do.
    const page = '{ signalsConnection(symbol: "GBP_USD", first: 20) { edges { node { id status } } } }';
    const direct = await get(gw.url, query(page));
    expect(direct.headers.get('surrogate-key')!.split(' ')).toEqual(expect.arrayContaining(['Signal:~', 'Signal']));
    const nodes = (JSON.parse(direct.text) as { data: { signalsConnection: { edges: { node: { id: number; status: string } }[] } } }).data.signalsConnection.edges.map((edge) => edge.node);
    const changed = nodes.find((node) => node.status === 'ACTIVE')!;
    await viaVarnish(page);
    expect(cdnCache(await viaVarnish(page))).toBe('HIT');
    expect((await post(gw.url, `mutation { updateSignalStatus(id: ${changed.id}, status: CANCELLED) { id status } }`)).status).toBe(200);
    const fresh = await viaVarnish(page);
    expect(cdnCache(fresh)).toBe('MISS');
    expect(fresh.text).toContain(`{"id":${changed.id},"status":"CANCELLED"}`);
  });

  it('purges everything on an invalidation of all', async () => {
    await viaVarnish(userQuery(27));
    expect(cdnCache(await viaVarnish(userQuery(27)))).toBe('HIT');
    expect((await post(gw.url, 'mutation { invalidateCache(input: { scope: ALL }) { removed } }')).status).toBe(200);
    expect(cdnCache(await viaVarnish(userQuery(27)))).toBe('MISS');
  });

  it('leaves an invalidation made by another instance to that instance: this one does not purge it again', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_URL: 'redis://127.0.0.1:6379', CACHE_KEY_PREFIX: prefix, CACHE_WARMING_ENABLED: 'false' });
    const other: Cache = createCache(config, createLogger(config));
    await other.start();
    try {
      await viaVarnish(userQuery(28));
      const before = purgesTaken(await metricsText());
      await other.invalidator.invalidateUserCache(28);
      // The gateway has heard it (its near copy is gone: the next direct read is not a near HIT) ...
      expect((await get(gw.url, query(userQuery(28)))).headers.get('x-cache')).not.toBe('HIT');
      // ... and sent no purge for it.
      expect(purgesTaken(await metricsText())).toBe(before);
      expect(cdnCache(await viaVarnish(userQuery(28)))).toBe('HIT');
    } finally {
      await other.close();
    }
  });

  it('does not store a PERSISTED_QUERY_NOT_FOUND: once the document is registered, the next GET gets the data', async () => {
    const text = `query UserById { user(id: 24) { id username } }`;
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(text).digest('hex') } };
    const byId = `extensions=${encodeURIComponent(JSON.stringify(extensions))}`;
    const notFound = await get(varnish.url, byId);
    expect(JSON.parse(notFound.text)).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
    expect(notFound.headers.get('cache-control')).toBe('private, no-cache, must-revalidate');
    expect(cdnCache(await get(varnish.url, byId))).not.toBe('HIT');
    // Apollo Client's link registers it with a POST carrying the text and the hash.
    const registered = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text, extensions }) });
    expect(registered.status).toBe(200);
    await registered.text();
    const data = await get(varnish.url, byId);
    expect(JSON.parse(data.text)).toEqual({ data: { user: { id: 24, username: expect.any(String) } } });
    expect(cdnCache(data)).toBe('MISS');
    expect(cdnCache(await get(varnish.url, byId))).toBe('HIT');
  });

  it('catches a CDN up once it is reachable again: the purges of writes made meanwhile are delivered, and its stale copy goes', async () => {
    await viaVarnish(userQuery(25));
    expect(cdnCache(await viaVarnish(userQuery(25)))).toBe('HIT');
    await relay.cut();
    try {
      const started = Date.now();
      expect((await post(gw.url, 'mutation { updateUser(id: 25, input: { displayName: "Written While Cut" }) { id } }')).status).toBe(200);
      // A CDN that is down does not hold writes up beyond the failed attempt.
      expect(Date.now() - started).toBeLessThan(2_000);
      const report = (await ready()).cdn_purger;
      expect(report.status).toBe('unreachable');
      expect(report.pending).toBeGreaterThan(0);
      expect(Date.parse(report.unreachable_since!)).toBeGreaterThanOrEqual(started - 1_000);
      const metrics = await metricsText();
      expect(Number(metrics.match(/gateway_cdn_purges_total\{result="failed"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(1);
      expect(Number(metrics.match(/gateway_cdn_purge_pending (\d+)/)?.[1])).toBe(report.pending);
      // Meanwhile Varnish still has the old answer: why the purge must not be lost.
      const stale = await viaVarnish(userQuery(25));
      expect(cdnCache(stale)).toBe('HIT');
      expect(displayNameOf(stale)).not.toBe('Written While Cut');
    } finally {
      await relay.restore();
    }
    await eventually(async () => (await ready()).cdn_purger.status === 'ok', 5_000, 'the purger caught up');
    const fresh = await viaVarnish(userQuery(25));
    expect(cdnCache(fresh)).toBe('MISS');
    expect(displayNameOf(fresh)).toBe('Written While Cut');
  });

  const metricsText = async () => (await fetch(`${gw.url}/metrics`)).text();
  const purgesTaken = (metrics: string) => Number(metrics.match(/gateway_cdn_purges_total\{result="ok"\} (\d+)/)?.[1]);
});
