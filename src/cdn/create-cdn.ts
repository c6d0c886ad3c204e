import type { Invalidation } from '../cache/invalidation-journal';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { CdnHeaders } from './cdn-headers';
import { CdnPurger } from './cdn-purger';
import { HttpPurgeTransport } from './http-purge-transport';

/** First retry of a purge the CDN did not take; doubles up to CDN_PURGE_MAX_RETRY_DELAY_MS. */
const PURGE_RETRY_BASE_MS = 100;

export interface Cdn {
  readonly headers: CdnHeaders;
  /** `undefined` when CDN_PURGE_URL is unset. */
  readonly purger: CdnPurger | undefined;
}

/**
 * Wires the CDN side: the headers of cacheable answers, and, with CDN_PURGE_URL, a purger fed by
 * the invalidations this instance makes. `responsesPattern` is CacheKeys.graphqlResponsesPattern().
 */
export function createCdn(
  config: Config['cdn'],
  cache: { onInvalidated(listener: (invalidation: Invalidation) => Promise<void>): void },
  responsesPattern: string,
  logger: Logger,
  /** The purges' HTTP client (default: the global fetch). */
  httpClient?: typeof fetch,
): Cdn {
  const headers = new CdnHeaders(config);
  if (config.purgeUrl === undefined) return { headers, purger: undefined };
  const purger = new CdnPurger(
    new HttpPurgeTransport({ url: config.purgeUrl, tagHeader: config.surrogateKeyHeader, timeoutMs: config.purgeTimeoutMs, ...(httpClient === undefined ? {} : { fetch: httpClient }) }),
    {
      responsesPattern,
      batchMs: config.purgeBatchMs,
      maxPendingTags: config.purgeMaxPendingTags,
      retryBaseMs: Math.min(PURGE_RETRY_BASE_MS, config.purgeMaxRetryDelayMs),
      maxRetryDelayMs: config.purgeMaxRetryDelayMs,
      maxRequestBytes: config.surrogateKeyMaxBytes,
    },
    logger,
  );
  cache.onInvalidated((invalidation) => purger.invalidated(invalidation));
  logger.info({ purgeUrl: config.purgeUrl }, 'cdn: invalidations are forwarded as purges');
  return { headers, purger };
}
