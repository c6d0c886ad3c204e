import { surrogateKeysOf } from './surrogate-keys';

/** What the headers of a stored response are made from (a StoredResponse of the response cache). */
export interface CacheableResponse {
  readonly scope: 'PUBLIC' | 'PRIVATE';
  /** Life of the stored response from when it was stored (its smallest cache hint), seconds. */
  readonly maxAgeSeconds: number;
  readonly tags: readonly string[];
}

export interface CdnHeaderOptions {
  /** CDN_S_MAXAGE_SECONDS: life in shared caches, never above the response's own max-age; `undefined`: none (they use max-age). */
  readonly sMaxAgeSeconds: number | undefined;
  /** CDN_STALE_WHILE_REVALIDATE_SECONDS: how long past its life a public response may be served while refetched; `undefined`: none. */
  readonly staleWhileRevalidateSeconds: number | undefined;
  /** CDN_SURROGATE_KEY_HEADER (`Surrogate-Key`): the header naming a public response's tags. */
  readonly surrogateKeyHeader: string;
  /** CDN_SURROGATE_KEY_MAX_BYTES (4096): longest value of that header (and of a purge request's). */
  readonly surrogateKeyMaxBytes: number;
}

/** The headers a response gets from its scope, lifetime and tags (Age, ETag and the hit marker are the route's). */
export interface CdnResponseHeaders {
  readonly headers: Readonly<Record<string, string>>;
  /** Request headers the answer depends on, added to Vary. */
  readonly vary: readonly string[];
}

/** Fastly's Surrogate-Key and Varnish's xkey separate tags with spaces; Cloudflare's Cache-Tag and Akamai's Edge-Cache-Tag with commas. */
export function tagSeparatorFor(headerName: string): string {
  return /^(surrogate-key|xkey)$/i.test(headerName) ? ' ' : ',';
}

/**
 * The HTTP caching headers of a stored response, for browsers and CDNs.
 *
 * - Browsers keep an answer only to revalidate it (`max-age=0`, or `no-cache` for a private one,
 *   with the route's ETag: a 304 while nothing changed). No invalidation and no purge reaches a
 *   browser's cache, and a user must see their own change on their next read.
 * - Shared caches (CDNs), which purges reach, keep a public answer for `s-maxage`: its whole life
 *   (the smallest cache hint), with `Age` (set by the route) saying how much of it has gone, as RFC
 *   9111 has it: a cache computes the rest itself. CDN_S_MAXAGE_SECONDS shortens it, never
 *   lengthens it, even with purges configured: some data changes with no invalidation to forward
 *   (a quote moves with the market), which no purge can make up for. Without purges, set it to the
 *   staleness after a write you accept.
 * - PUBLIC answers vary by Accept only. The response cache serves one stored copy of a PUBLIC
 *   response to every viewer (its key holds no viewer), so Authorization does not change the
 *   bytes; varying by it would give each token a copy of its own in a CDN. PRIVATE answers vary by
 *   Authorization too, say `private` (never public), and name no tags: no shared cache keeps them.
 * - A PUBLIC answer names its tags, so that a purge by tag reaches it (see surrogate-keys.ts). One
 *   whose tags fit no header even collapsed gets `s-maxage=0` (and no stale-while-revalidate): a
 *   shared cache that cannot be purged of it must not keep it.
 *
 * The result is memoised per stored response: a near hit serves the same object many times.
 */
export class CdnHeaders {
  private readonly memo = new WeakMap<CacheableResponse, CdnResponseHeaders>();
  private readonly separator: string;

  constructor(readonly options: CdnHeaderOptions) {
    this.separator = tagSeparatorFor(options.surrogateKeyHeader);
  }

  of(response: CacheableResponse): CdnResponseHeaders {
    let headers = this.memo.get(response);
    if (headers === undefined) {
      headers = this.compute(response);
      this.memo.set(response, headers);
    }
    return headers;
  }

  private compute(response: CacheableResponse): CdnResponseHeaders {
    if (response.scope === 'PRIVATE') return { headers: { 'cache-control': 'private, no-cache' }, vary: ['accept', 'authorization'] };
    const life = Math.max(0, Math.floor(response.maxAgeSeconds));
    const { sMaxAgeSeconds, staleWhileRevalidateSeconds, surrogateKeyHeader, surrogateKeyMaxBytes } = this.options;
    const keys = response.tags.length === 0 ? '' : surrogateKeysOf(response.tags, surrogateKeyMaxBytes, this.separator);
    const directives = ['public', 'max-age=0', `s-maxage=${keys === undefined ? 0 : Math.min(sMaxAgeSeconds ?? life, life)}`];
    if (staleWhileRevalidateSeconds !== undefined && keys !== undefined) directives.push(`stale-while-revalidate=${staleWhileRevalidateSeconds}`);
    const headers: Record<string, string> = { 'cache-control': directives.join(', ') };
    if (keys !== undefined && keys !== '') headers[surrogateKeyHeader.toLowerCase()] = keys;
    return { headers, vary: ['accept'] };
  }
}
