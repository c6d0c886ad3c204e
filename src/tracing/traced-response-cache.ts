import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService } from '../cache/cache.service';
import type { CacheScope } from '../graphql/response-cache/cache-policy';
import type { Loaded } from '../cache/fleet-flight';
import { ResponseCache, type ResponseCacheOptions, type StoredResponse } from '../graphql/response-cache/response-cache';
import { endAfter, failed, type Tracing } from './tracing';

/**
 * The response cache with its shared-tier reads and its writes as spans (`response-cache.read`
 * with its outcome, `response-cache.write`); the tier operations under them are TracedTier's.
 * Near copies are not spans of their own: the operation's span says `near` (see TracedAnswers).
 */
export class TracedResponseCache extends ResponseCache {
  constructor(
    private readonly tracing: Tracing,
    cache: CacheService,
    keys: CacheKeys,
    options: ResponseCacheOptions,
  ) {
    super(cache, keys, options);
  }

  override sharedLookup(publicKey: string, privateKey: string): Promise<StoredResponse | undefined> {
    const span = this.tracing.startChild('response-cache.read', { 'gateway.response_cache.tier': 'shared' });
    if (span === undefined) return super.sharedLookup(publicKey, privateKey);
    return endAfter(
      span,
      () => this.tracing.within(span, () => super.sharedLookup(publicKey, privateKey)),
      (done, found) => done.setAttribute('gateway.cache', found === undefined ? 'MISS' : 'HIT'),
    );
  }

  override store(key: string, body: Buffer, policy: { ttlSeconds: number; scope: CacheScope; tags: ReadonlySet<string> }, epoch: number): Loaded<StoredResponse> | undefined {
    const span = this.tracing.startChild('response-cache.write', { 'gateway.response_cache.ttl_seconds': policy.ttlSeconds, 'gateway.response_cache.scope': policy.scope });
    if (span === undefined) return super.store(key, body, policy, epoch);
    let kept: Loaded<StoredResponse> | undefined;
    try {
      kept = this.tracing.within(span, () => super.store(key, body, policy, epoch));
    } catch (error) {
      failed(span, error);
      span.end();
      throw error;
    }
    // Not stored: an invalidation came in while it was executed, so it may show old data.
    span.setAttribute('gateway.response_cache.stored', kept !== undefined);
    // The write lands behind the answer: the span ends with it, after the operation's.
    if (kept === undefined) span.end();
    else void kept.stored.then(() => span.end());
    return kept;
  }
}
