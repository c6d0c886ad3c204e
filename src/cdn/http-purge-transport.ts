import type { Purge, PurgeTransport } from './cdn-purger';

export interface HttpPurgeOptions {
  /** CDN_PURGE_URL. */
  readonly url: string;
  /** The header that names the tags, as on responses (CDN_SURROGATE_KEY_HEADER). */
  readonly tagHeader: string;
  /** CDN_PURGE_TIMEOUT_MS: an attempt that takes longer failed (and is retried). */
  readonly timeoutMs: number;
  /** The HTTP client (default: the global fetch); tracing passes one that sends `traceparent`. */
  readonly fetch?: typeof fetch;
}

/** The CDN answered a purge with something other than 2xx. */
export class PurgeRefusedError extends Error {
  constructor(readonly status: number) {
    super(`the CDN answered the purge with HTTP ${status}`);
    this.name = 'PurgeRefusedError';
  }
}

/**
 * Purges as deploy/varnish/default.vcl takes them: `PURGE` to the configured URL with the tokens
 * to ban in the tag header, space-separated (`Surrogate-Key: Signal:7 Signal:~`), or with
 * `X-Purge-All: true` to ban every response. Only a 2xx counts as taken.
 */
export class HttpPurgeTransport implements PurgeTransport {
  constructor(private readonly options: HttpPurgeOptions) {}

  async send(purge: Purge): Promise<void> {
    const headers: Record<string, string> = purge.kind === 'all' ? { 'x-purge-all': 'true' } : { [this.options.tagHeader]: purge.tokens.join(' ') };
    const response = await (this.options.fetch ?? fetch)(this.options.url, { method: 'PURGE', headers, signal: AbortSignal.timeout(this.options.timeoutMs) });
    // Read to the end, so that the connection goes back to the pool.
    await response.arrayBuffer();
    if (!response.ok) throw new PurgeRefusedError(response.status);
  }
}
