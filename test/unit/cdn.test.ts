import { createServer, type IncomingMessage, type Server } from 'node:http';

import pino from 'pino';

import { CacheKeys } from '../../src/cache/cache-keys';
import { CacheInvalidator } from '../../src/cache/cache-invalidator';
import { CacheTags } from '../../src/cache/cache-tags';
import type { CacheService } from '../../src/cache/cache.service';
import type { Invalidation, InvalidationPart } from '../../src/cache/invalidation-journal';
import { CdnHeaders, type CdnHeaderOptions } from '../../src/cdn/cdn-headers';
import { CdnPurger, type CdnPurgerOptions, purgeScopeOf } from '../../src/cdn/cdn-purger';
import { HttpPurgeTransport } from '../../src/cdn/http-purge-transport';
import { purgeBatches, purgeTokensOf, surrogateKeysOf } from '../../src/cdn/surrogate-keys';
import { listsChangedBy, signalListKey } from '../../src/signals/signal-list';
import { eventually } from '../helpers/eventually';

const keys = new CacheKeys('ai_trading');
const quiet = pino({ level: 'silent' });

/** What a purge of `purged` bans among headers: a token of the header equal to one of the purge's tokens (what the VCL matches). */
const reaches = (purged: string, header: string) => {
  const tokens = new Set(header.split(/[\s,]+/));
  return purgeTokensOf(purged).some((token) => tokens.has(token));
};

/** A page of `count` signals with their authors, as the response cache tags it (specific tags and their umbrellas). */
function pageTags(count: number): string[] {
  const tags = new Set<string>([CacheTags.signalList(signalListKey({ symbol: 'EUR_USD' }))]);
  for (let id = 1; id <= count; id += 1) {
    for (const tag of [CacheTags.signal(id), CacheTags.signalOf('EUR_USD'), CacheTags.user(1000 + (id % 37)), CacheTags.market('EUR_USD')]) {
      tags.add(tag);
      tags.add(tag.slice(0, tag.indexOf(':')));
    }
  }
  return [...tags];
}

describe('CDN headers of a stored response', () => {
  const options: CdnHeaderOptions = { sMaxAgeSeconds: undefined, staleWhileRevalidateSeconds: undefined, surrogateKeyHeader: 'Surrogate-Key', surrogateKeyMaxBytes: 4096 };
  const publicUser = { scope: 'PUBLIC' as const, maxAgeSeconds: 3600, tags: ['User:42', 'User'] };

  it('say public, for browsers only to revalidate, for shared caches the whole life (Age tells how much has gone), vary by Accept only, and name the tags', () => {
    expect(new CdnHeaders(options).of(publicUser)).toEqual({
      headers: { 'cache-control': 'public, max-age=0, s-maxage=3600', 'surrogate-key': 'User User:42' },
      vary: ['accept'],
    });
  });

  it('shorten s-maxage to CDN_S_MAXAGE_SECONDS, never lengthen it, and add stale-while-revalidate when configured', () => {
    const cdn = new CdnHeaders({ ...options, sMaxAgeSeconds: 600, staleWhileRevalidateSeconds: 30 });
    expect(cdn.of(publicUser).headers['cache-control']).toBe('public, max-age=0, s-maxage=600, stale-while-revalidate=30');
    // A quote's 60 s is how long it may be shown at all: no purge makes it fresher.
    expect(cdn.of({ ...publicUser, maxAgeSeconds: 60 }).headers['cache-control']).toBe('public, max-age=0, s-maxage=60, stale-while-revalidate=30');
  });

  it('keep a private response private and revalidated: no public, no s-maxage, no tags, and vary by Authorization', () => {
    const cdn = new CdnHeaders({ ...options, sMaxAgeSeconds: 600, staleWhileRevalidateSeconds: 30 });
    expect(cdn.of({ scope: 'PRIVATE', maxAgeSeconds: 3600, tags: ['User:1', 'User'] })).toEqual({
      headers: { 'cache-control': 'private, no-cache' },
      vary: ['accept', 'authorization'],
    });
  });

  it('name the tags in the configured header, comma-separated for Cache-Tag as Cloudflare reads it', () => {
    expect(new CdnHeaders({ ...options, surrogateKeyHeader: 'Cache-Tag' }).of(publicUser).headers).toEqual({ 'cache-control': 'public, max-age=0, s-maxage=3600', 'cache-tag': 'User,User:42' });
  });

  it('keep shared caches from storing a response whose tags fit no header even collapsed', () => {
    const cdn = new CdnHeaders({ ...options, surrogateKeyMaxBytes: 10, staleWhileRevalidateSeconds: 30 });
    expect(cdn.of(publicUser).headers).toEqual({ 'cache-control': 'public, max-age=0, s-maxage=0' });
  });

  it('are computed once per stored response (a near hit serves the same object again and again)', () => {
    const cdn = new CdnHeaders(options);
    expect(cdn.of(publicUser)).toBe(cdn.of(publicUser));
  });
});

describe('surrogate keys', () => {
  it('name every tag as it is when they fit', () => {
    const tags = pageTags(5);
    expect(new Set(surrogateKeysOf(tags, 4096)!.split(' '))).toEqual(new Set(tags));
  });

  it('collapse the heaviest kinds of a long list into Kind:~ and stay within the bound', () => {
    const tags = pageTags(100);
    expect(tags.join(' ').length).toBeGreaterThan(1024);
    const header = surrogateKeysOf(tags, 1024)!;
    expect(header.length).toBeLessThanOrEqual(1024);
    expect(header.split(' ')).toEqual(expect.arrayContaining(['Signal:~', 'Signal', 'SignalList:EUR_USD/*/*/*/*']));
    expect(header).not.toMatch(/\bSignal:\d/);
  });

  it('let the purge of any tag a response showed reach it, collapsed or not, and the umbrella too', () => {
    const tags = pageTags(100);
    for (const maxBytes of [4096, 1024, 400, 256]) {
      const header = surrogateKeysOf(tags, maxBytes)!;
      for (const tag of tags) expect({ maxBytes, tag, reached: reaches(tag, header) }).toEqual({ maxBytes, tag, reached: true });
    }
  });

  it('purge exactly: a tag never reaches another that it is a prefix of, or that differs only where a pattern would match anything', () => {
    const header = surrogateKeysOf(['Signal:10', 'Signal', 'SignalList:EUR_USD/*/ACTIVE/*/*', 'SignalList'], 4096)!;
    expect(reaches('Signal:1', header)).toBe(false);
    expect(reaches('Signal:10', header)).toBe(true);
    expect(reaches('SignalList:EUR_USD/*/*/*/*', header)).toBe(false);
    expect(reaches('SignalList:EUR_USD/*/ACTIVE/*/*', header)).toBe(true);
  });

  it('represent a tag no header can carry by its kind\'s collapse token, never drop it', () => {
    const header = surrogateKeysOf(['User:a b', 'User'], 4096)!;
    expect(header.split(' ').sort()).toEqual(['User', 'User:~']);
    expect(reaches('User:a b', header)).toBe(true);
  });

  it('split a long purge into requests within the bound, each tag in exactly one', () => {
    const tags = listsChangedBy({ symbol: 'EUR_USD', timeframe: 'H1', direction: 'BUY', userId: 7 }, ['ACTIVE', undefined]).map(CacheTags.signalList);
    const batches = purgeBatches(tags, 200);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.tokens.join(' ').length).toBeLessThanOrEqual(200);
    expect(batches.flatMap((batch) => batch.tags).sort()).toEqual([...new Set(tags)].sort());
    for (const batch of batches) for (const tag of batch.tags) expect(batch.tokens).toEqual(expect.arrayContaining(purgeTokensOf(tag)));
  });
});

describe('what an invalidation purges from a CDN', () => {
  it.each<[string, Invalidation, ReturnType<typeof purgeScopeOf>]>([
    ['tags, as they are', { kind: 'tags', tags: ['User:1', 'Signals:EUR_USD'] }, { kind: 'tags', tags: ['User:1', 'Signals:EUR_USD'] }],
    ['all cached responses: everything', { kind: 'pattern', pattern: keys.graphqlResponsesPattern() }, { kind: 'all' }],
    ['the whole prefix: everything', { kind: 'pattern', pattern: keys.allPattern() }, { kind: 'all' }],
    ['an operator glob that may reach responses: everything', { kind: 'pattern', pattern: keys.scoped('api:*') }, { kind: 'all' }],
    ['a glob of data entries only: nothing', { kind: 'pattern', pattern: keys.scoped('users:7:*') }, { kind: 'none' }],
    ['group tags (data entries only): nothing', { kind: 'tags', tags: [keys.groupTag('users', 7), keys.groupTag('signals', 'EUR_USD')] }, { kind: 'none' }],
    ['data keys: nothing', { kind: 'keys', keys: [keys.user(7), keys.signals('id', 3)] }, { kind: 'none' }],
    ['a response key: everything (a key names no tag)', { kind: 'keys', keys: [keys.graphqlResponse('v1:abc')] }, { kind: 'all' }],
    [
      'a batch: its tags, or everything when one part needs it',
      { kind: 'batch', parts: [{ kind: 'keys', keys: [keys.user(7)] }, { kind: 'pattern', pattern: keys.scoped('signals:EUR_USD:*') }, { kind: 'tags', tags: ['Signal:3'] }] },
      { kind: 'tags', tags: ['Signal:3'] },
    ],
  ])('%s', (_what, invalidation, expected) => {
    expect(purgeScopeOf(invalidation, keys.graphqlResponsesPattern())).toEqual(expected);
  });

  it('purges something for every invalidation the gateway makes: each names the tags of the responses it affects, or reaches them all', async () => {
    const made: InvalidationPart[][] = [];
    const recorder = {
      deleteAll: (parts: readonly InvalidationPart[]) => Promise.resolve(made.push([...parts])),
      deletePattern: (pattern: string) => Promise.resolve(made.push([{ kind: 'pattern', pattern }])),
    } as unknown as CacheService;
    const invalidator = new CacheInvalidator(recorder, keys);
    await invalidator.invalidateUserCache(7);
    await invalidator.invalidateUserFacets(7);
    await invalidator.invalidateSignal(3);
    await invalidator.invalidateSignalCache('EUR_USD');
    await invalidator.invalidateSignalCache();
    await invalidator.invalidateSignalWrite({ id: 3, symbol: 'EUR_USD', userId: 7 }, ['EUR_USD/*/*/*/*']);
    await invalidator.invalidateMarketCache('EUR_USD');
    await invalidator.invalidateMarketCache();
    await invalidator.invalidateAllCache();
    await invalidator.invalidatePattern('users:*');
    const scopes = made.map((parts) => purgeScopeOf({ kind: 'batch', parts }, keys.graphqlResponsesPattern()).kind);
    expect(scopes).toEqual(['tags', 'tags', 'tags', 'tags', 'tags', 'tags', 'tags', 'tags', 'all', 'all']);
  });
});

/** A CDN purge endpoint on a real local HTTP server, that answers with whatever `status()` says (or drops the connection). */
class FakeCdn {
  readonly requests: { at: number; headers: IncomingMessage['headers'] }[] = [];
  status: () => number | 'drop' = () => 200;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.requests.push({ at: Date.now(), headers: request.headers });
      const status = this.status();
      if (status === 'drop') {
        request.socket.destroy();
        return;
      }
      response.writeHead(status).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
  }

  tagsOf(index: number): string[] {
    return String(this.requests[index]?.headers['surrogate-key'] ?? '').split(' ').filter(Boolean);
  }

  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}

describe('the CDN purger', () => {
  let cdn: FakeCdn;
  let url: string;
  const purgers: CdnPurger[] = [];
  const purgerWith = (options: Partial<CdnPurgerOptions> = {}) => {
    const purger = new CdnPurger(
      new HttpPurgeTransport({ url, tagHeader: 'Surrogate-Key', timeoutMs: 1_000 }),
      { responsesPattern: keys.graphqlResponsesPattern(), batchMs: 0, maxPendingTags: 1_000, retryBaseMs: 40, maxRetryDelayMs: 1_000, maxRequestBytes: 4096, random: () => 1, ...options },
      quiet,
    );
    purgers.push(purger);
    return purger;
  };
  const tags = (...names: string[]): Invalidation => ({ kind: 'tags', tags: names });

  beforeEach(async () => {
    cdn = new FakeCdn();
    url = await cdn.start();
  });
  afterEach(async () => {
    await Promise.all(purgers.splice(0).map((purger) => purger.close()));
    await cdn.close();
  });

  it('sends a tag purge as PURGE with the tags and their collapse tokens, and lets the write go once the CDN has taken it', async () => {
    const purger = purgerWith();
    await purger.invalidated(tags('Signal:7', 'Signal'));
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.tagsOf(0).sort()).toEqual(['Signal', 'Signal:7', 'Signal:~']);
    expect(purger.report()).toEqual({ status: 'ok', pending: 0, full_purge_pending: false });
    expect(purger.metrics()).toMatchObject({ requests_ok: 1, tags_purged: 2 });
  });

  it('sends a full purge as X-Purge-All, and nothing for an invalidation of data entries only', async () => {
    const purger = purgerWith();
    await purger.invalidated({ kind: 'keys', keys: [keys.user(1)] });
    expect(cdn.requests).toHaveLength(0);
    await purger.invalidated({ kind: 'pattern', pattern: keys.allPattern() });
    expect(cdn.requests.map((request) => request.headers['x-purge-all'])).toEqual(['true']);
  });

  it('batches: invalidations arriving together, or while a purge is under way, go out in one request', async () => {
    let answer: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (answer = resolve));
    const purger = new CdnPurger(
      { send: async (purge) => { cdn.requests.push({ at: Date.now(), headers: { 'surrogate-key': purge.kind === 'tokens' ? purge.tokens.join(' ') : '' } }); if (cdn.requests.length === 1) await slow; } },
      { responsesPattern: keys.graphqlResponsesPattern(), batchMs: 0, maxPendingTags: 1_000, retryBaseMs: 40, maxRetryDelayMs: 1_000, maxRequestBytes: 4096 },
      quiet,
    );
    purgers.push(purger);
    const first = purger.invalidated(tags('User:1'));
    await eventually(() => cdn.requests.length === 1, 1_000, 'the first purge');
    const meanwhile = [purger.invalidated(tags('User:2')), purger.invalidated(tags('User:3')), purger.invalidated(tags('User:2', 'Market:EUR_USD'))];
    expect(purger.report()).toMatchObject({ status: 'backlog', pending: 4 });
    answer();
    await Promise.all([first, ...meanwhile]);
    expect(cdn.requests).toHaveLength(2);
    expect(cdn.tagsOf(1).filter((token) => !token.endsWith(':~')).sort()).toEqual(['Market:EUR_USD', 'User:2', 'User:3']);
  });

  it('gathers invalidations for CDN_PURGE_BATCH_MS when set', async () => {
    // Long enough that the second invalidation, 10 ms later, falls within it on a busy machine.
    const purger = purgerWith({ batchMs: 400 });
    await Promise.all([purger.invalidated(tags('User:1')), new Promise((resolve) => setTimeout(resolve, 10)).then(() => purger.invalidated(tags('User:2')))]);
    expect(cdn.requests).toHaveLength(1);
  });

  it('keeps a purge the CDN did not take and retries it with exponential backoff until it does; writes do not wait on a failing CDN', async () => {
    let failures = 4;
    cdn.status = () => (failures-- > 0 ? 503 : 200);
    const purger = purgerWith();
    const started = Date.now();
    await purger.invalidated(tags('Signal:7'));
    // The first attempt is answered (503): the write goes on, the purge stays.
    expect(purger.report()).toMatchObject({ status: 'unreachable', pending: 1, last_error: 'the CDN answered the purge with HTTP 503' });
    expect(Date.parse(purger.report().unreachable_since!)).toBeGreaterThanOrEqual(started - 1);
    // Answered without waiting for the next attempt (none is made meanwhile).
    const attempts = cdn.requests.length;
    await purger.invalidated(tags('Signal:8'));
    expect(cdn.requests).toHaveLength(attempts);
    await eventually(() => purger.report().status === 'ok', 5_000, 'the purge delivered');
    expect(cdn.requests).toHaveLength(5);
    const gaps = cdn.requests.slice(1).map((request, index) => request.at - cdn.requests[index]!.at);
    // 40, 80, 160, 320 ms (random() = 1: no jitter), give or take the timer's precision; a busy
    // machine's timers fire late, never early, and the last gap stays under the next doubling.
    gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(40 * 2 ** index - 5));
    expect(gaps[3]!).toBeLessThan(640);
    expect(cdn.tagsOf(4).sort()).toEqual(['Signal:7', 'Signal:8', 'Signal:~']);
    expect(purger.metrics()).toMatchObject({ requests_failed: 4, requests_ok: 1, tags_purged: 2 });
    expect(purger.report()).toEqual({ status: 'ok', pending: 0, full_purge_pending: false });
  });

  it('counts a dropped connection or a timeout as a failure like any other', async () => {
    cdn.status = () => 'drop';
    const purger = purgerWith();
    await purger.invalidated(tags('User:1'));
    expect(purger.report()).toMatchObject({ status: 'unreachable', pending: 1 });
    cdn.status = () => 200;
    await eventually(() => purger.report().status === 'ok', 2_000, 'the purge delivered');
  });

  it('caps the backoff at the maximum delay', async () => {
    cdn.status = () => 503;
    const purger = purgerWith({ retryBaseMs: 20, maxRetryDelayMs: 60 });
    await purger.invalidated(tags('User:1'));
    await eventually(() => cdn.requests.length >= 7, 2_000, 'seven attempts');
    const gaps = cdn.requests.slice(1).map((request, index) => request.at - cdn.requests[index]!.at);
    // Uncapped, the last gaps would be 320 and 640 ms; the slack is for a busy machine's timers (118 ms seen).
    expect(Math.max(...gaps)).toBeLessThan(300);
  });

  it('bounds what waits while the CDN is unreachable: past the bound it becomes one full purge, sent when the CDN is back', async () => {
    cdn.status = () => 503;
    const purger = purgerWith({ maxPendingTags: 5 });
    for (let id = 1; id <= 4; id += 1) await purger.invalidated(tags(`Signal:${id}`));
    expect(purger.report()).toMatchObject({ pending: 4, full_purge_pending: false });
    await purger.invalidated(tags('Signal:5', 'Signal:6'));
    expect(purger.report()).toMatchObject({ status: 'unreachable', pending: 1, full_purge_pending: true });
    expect(purger.metrics().collapsed).toBe(1);
    // Tags that come after are covered by the full purge.
    await purger.invalidated(tags('Signal:7'));
    expect(purger.report().pending).toBe(1);
    const failedSoFar = cdn.requests.length;
    cdn.status = () => 200;
    await eventually(() => purger.report().status === 'ok', 3_000, 'the full purge delivered');
    const delivered = cdn.requests.slice(failedSoFar);
    expect(delivered.map((request) => request.headers['x-purge-all'])).toEqual(['true']);
    expect(purger.metrics()).toMatchObject({ full_purges: 1 });
  });

  it('on close, sends what waits at once rather than after its backoff', async () => {
    cdn.status = () => 503;
    const purger = purgerWith({ retryBaseMs: 60_000, maxRetryDelayMs: 60_000 });
    await purger.invalidated(tags('User:1'));
    cdn.status = () => 200;
    await purger.close();
    expect(cdn.requests).toHaveLength(2);
    expect(purger.report().status).toBe('ok');
  });
});
