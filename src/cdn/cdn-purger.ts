import { isGroupTag } from '../cache/cache-keys';
import { globToRegExp } from '../cache/glob';
import type { Invalidation, InvalidationPart } from '../cache/invalidation-journal';
import type { Logger } from '../logger';
import { purgeBatches } from './surrogate-keys';

/** One purge request: ban the responses naming any of these header tokens, or every response. */
export type Purge = { readonly kind: 'all' } | { readonly kind: 'tokens'; readonly tokens: readonly string[] };

/** Where purges go (an HTTP endpoint of the CDN in production, a fake in tests). Resolves once the CDN has taken the purge; rejects otherwise. */
export interface PurgeTransport {
  send(purge: Purge): Promise<void>;
}

export interface CdnPurgerOptions {
  /** The glob of every cached GraphQL response (CacheKeys.graphqlResponsesPattern): what a pattern or key must reach to need a full purge. */
  readonly responsesPattern: string;
  /** CDN_PURGE_BATCH_MS (0): wait before a purge goes out, gathering more into it; what comes while one is under way always goes in the next. */
  readonly batchMs: number;
  /** CDN_PURGE_MAX_PENDING_TAGS (10000): tags kept while the CDN is unreachable; past it they become one full purge. */
  readonly maxPendingTags: number;
  /** First retry delay; it doubles per failed attempt up to maxRetryDelayMs. */
  readonly retryBaseMs: number;
  /** CDN_PURGE_MAX_RETRY_DELAY_MS (30000). */
  readonly maxRetryDelayMs: number;
  /** CDN_SURROGATE_KEY_MAX_BYTES: a request names at most this many bytes of tags; more go in several requests. */
  readonly maxRequestBytes: number;
  /** In [0, 1): the jitter of retry delays (Math.random). */
  readonly random?: () => number;
}

export type CdnPurgerStatus = 'ok' | 'backlog' | 'unreachable';

/** The purger's line in the readiness report. */
export interface CdnPurgerReport {
  /** `ok`: nothing waiting; `backlog`: purges waiting for their batch or an answer; `unreachable`: the last attempt failed, retrying. */
  readonly status: CdnPurgerStatus;
  /** Tags waiting; a full purge waiting counts as one. */
  readonly pending: number;
  readonly full_purge_pending: boolean;
  /** When the current run of failed attempts began (ISO 8601); absent while the CDN answers. */
  readonly unreachable_since?: string;
  readonly last_error?: string;
}

export interface CdnPurgerMetrics {
  /** Purge requests the CDN took, and attempts that failed (each retried). */
  readonly requests_ok: number;
  readonly requests_failed: number;
  /** Tags delivered, and full purges delivered. */
  readonly tags_purged: number;
  readonly full_purges: number;
  /** Times the waiting tags outgrew maxPendingTags and became one full purge. */
  readonly collapsed: number;
}

/** What a CDN must drop for one invalidation. */
export type PurgeScope = { readonly kind: 'none' } | { readonly kind: 'all' } | { readonly kind: 'tags'; readonly tags: readonly string[] };

/**
 * What an invalidation means for a CDN, which holds GraphQL responses only, named by their tags:
 * tags are purged as they are; a key or pattern that may reach a cached response is a full purge
 * (which responses a pattern matched is unknowable, and a key names no tag); any other key or
 * pattern reaches data entries only, and the invalidations that remove those also name the tags
 * of the responses showing them (see cache-invalidator.ts).
 */
export function purgeScopeOf(invalidation: Invalidation, responsesPattern: string): PurgeScope {
  const parts: readonly InvalidationPart[] = invalidation.kind === 'batch' ? invalidation.parts : [invalidation];
  const responseKey = globToRegExp(responsesPattern);
  const responsesPrefix = literalPrefixOf(responsesPattern);
  const tags: string[] = [];
  for (const part of parts) {
    switch (part.kind) {
      case 'keys':
        if (part.keys.some((key) => responseKey.test(key))) return { kind: 'all' };
        break;
      case 'pattern': {
        // Conservative: the pattern may match a response key unless their fixed beginnings differ.
        const prefix = literalPrefixOf(part.pattern);
        if (prefix.startsWith(responsesPrefix) || responsesPrefix.startsWith(prefix)) return { kind: 'all' };
        break;
      }
      case 'tags':
        // Group tags name data entries only (CacheKeys.groupTag): no response carries one.
        for (const tag of part.tags) if (!isGroupTag(tag)) tags.push(tag);
        break;
    }
  }
  return tags.length === 0 ? { kind: 'none' } : { kind: 'tags', tags };
}

/** The characters every match of a Redis glob begins with (up to its first unescaped `*`, `?` or `[`). */
function literalPrefixOf(pattern: string): string {
  let prefix = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '\\' && i + 1 < pattern.length) {
      i += 1;
      prefix += pattern[i]!;
    } else if (char === '*' || char === '?' || char === '[') {
      break;
    } else {
      prefix += char;
    }
  }
  return prefix;
}

/**
 * Forwards this instance's invalidations to a CDN as purges by tag.
 *
 * Batched: a purge goes out at once when none is under way (after `batchMs`, when set), and
 * whatever arrives while one is under way goes out together in the next. The caller may wait for
 * its purge: CacheService does, so that a write answers once the CDN has taken the purge, as it
 * answers once every instance has dropped its copies. Only while the CDN answers, though: after a
 * failed attempt nobody waits (a CDN outage must not slow every write down).
 *
 * Never silently dropped: a purge the CDN did not take is kept and retried with exponential
 * backoff (with jitter) until it does; the tags waiting are bounded, and past the bound they
 * become one full purge, which covers them all (a cold CDN is safe, a stale one is not). Kept in
 * memory: a process that stops with purges undelivered logs how many (see close).
 *
 * Fed by CacheService.onInvalidated, which reports the invalidations this instance made, once
 * they have been applied: the instance that changed the data purges, the others do not repeat it,
 * and a CDN refetching after the purge finds the gateway's caches already clean.
 */
export class CdnPurger {
  private readonly pendingTags = new Set<string>();
  private pendingAll = false;
  /** Callers waiting for what is pending to be sent (see invalidated). */
  private waiters: (() => void)[] = [];
  /** Tags (a full purge: 1) in the request under way. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private consecutiveFailures = 0;
  private unreachableSinceMs: number | undefined;
  private lastError: string | undefined;
  private closed = false;
  private readonly counters = { requests_ok: 0, requests_failed: 0, tags_purged: 0, full_purges: 0, collapsed: 0 };
  private readonly random: () => number;

  constructor(
    private readonly transport: PurgeTransport,
    private readonly options: CdnPurgerOptions,
    private readonly logger: Logger,
  ) {
    this.random = options.random ?? Math.random;
  }

  /**
   * Queues what the CDN must drop for an invalidation made here (nothing, some tags, or
   * everything). Resolves once a request carrying it has been answered, taken or not (a purge not
   * taken stays queued), and at once when there is nothing to purge or the CDN is failing. Never rejects.
   */
  invalidated(invalidation: Invalidation): Promise<void> {
    const scope = purgeScopeOf(invalidation, this.options.responsesPattern);
    switch (scope.kind) {
      case 'none':
        return Promise.resolve();
      case 'all':
        this.pendingAll = true;
        this.pendingTags.clear();
        break;
      case 'tags':
        this.queueTags(scope.tags);
        break;
    }
    this.schedule(this.options.batchMs);
    if (this.consecutiveFailures > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  report(): CdnPurgerReport {
    const pending = (this.pendingAll ? 1 : this.pendingTags.size) + this.inFlight;
    const status: CdnPurgerStatus = this.consecutiveFailures > 0 ? 'unreachable' : pending > 0 ? 'backlog' : 'ok';
    return {
      status,
      pending,
      full_purge_pending: this.pendingAll,
      ...(this.unreachableSinceMs === undefined ? {} : { unreachable_since: new Date(this.unreachableSinceMs).toISOString() }),
      ...(this.lastError === undefined ? {} : { last_error: this.lastError }),
    };
  }

  metrics(): CdnPurgerMetrics {
    return { ...this.counters };
  }

  /** How long the CDN has been failing, in seconds; 0 while it answers. */
  unreachableSeconds(now = Date.now()): number {
    return this.unreachableSinceMs === undefined ? 0 : (now - this.unreachableSinceMs) / 1000;
  }

  /**
   * Sends what is waiting at once (one attempt, not waiting out a backoff), then stops. Whatever
   * the CDN still has not taken is logged as lost: the CDN may serve those responses until their
   * s-maxage runs out.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.pendingAll || this.pendingTags.size > 0) await this.run();
    this.release();
    if (this.pendingAll || this.pendingTags.size > 0) {
      this.logger.warn({ pending: this.report().pending, full_purge: this.pendingAll }, 'cdn: stopping with purges the CDN has not taken; it may serve those responses until their s-maxage');
    }
  }

  private queueTags(tags: readonly string[]): void {
    if (this.pendingAll) return;
    for (const tag of tags) this.pendingTags.add(tag);
    if (this.pendingTags.size > this.options.maxPendingTags) {
      this.counters.collapsed += 1;
      this.logger.warn({ pending: this.pendingTags.size, max: this.options.maxPendingTags }, 'cdn: too many purges waiting; they become one full purge');
      this.pendingTags.clear();
      this.pendingAll = true;
    }
  }

  /** Runs a send after `delayMs`, unless one is already due or under way (the next one takes what is waiting then). */
  private schedule(delayMs: number): void {
    if (this.closed || this.timer !== undefined || this.running !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const run = this.sendPending();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
    }
    if (this.pendingAll || this.pendingTags.size > 0) this.schedule(this.consecutiveFailures > 0 ? this.retryDelayMs() : this.options.batchMs);
  }

  /** Takes what is waiting and sends it; on a failure, what was not sent waits again (merged with what came meanwhile). */
  private async sendPending(): Promise<void> {
    const all = this.pendingAll;
    const batches = all ? [] : purgeBatches(this.pendingTags, this.options.maxRequestBytes);
    const waiters = this.waiters;
    this.waiters = [];
    this.inFlight = all ? 1 : this.pendingTags.size;
    this.pendingAll = false;
    this.pendingTags.clear();
    let sent = 0;
    try {
      if (all) {
        await this.transport.send({ kind: 'all' });
        this.counters.full_purges += 1;
        this.counters.requests_ok += 1;
      }
      for (const batch of batches) {
        await this.transport.send({ kind: 'tokens', tokens: batch.tokens });
        sent += 1;
        this.inFlight -= batch.tags.length;
        this.counters.requests_ok += 1;
        this.counters.tags_purged += batch.tags.length;
      }
      if (this.consecutiveFailures > 0) this.logger.info({ failedAttempts: this.consecutiveFailures }, 'cdn: the CDN takes purges again; the waiting ones are delivered');
      this.consecutiveFailures = 0;
      this.unreachableSinceMs = undefined;
      this.lastError = undefined;
    } catch (error) {
      this.inFlight = 0;
      this.counters.requests_failed += 1;
      this.consecutiveFailures += 1;
      this.unreachableSinceMs ??= Date.now();
      this.lastError = error instanceof Error ? error.message : String(error);
      if (all) {
        this.pendingAll = true;
        this.pendingTags.clear();
      } else {
        this.queueTags(batches.slice(sent).flatMap((batch) => batch.tags));
      }
      const log = { err: error, attempt: this.consecutiveFailures, pending: this.report().pending };
      if (this.consecutiveFailures === 1) this.logger.warn(log, 'cdn: purge failed; kept and retried with backoff');
      else this.logger.debug(log, 'cdn: purge failed again');
      // Nobody waits on a failing CDN: those who came meanwhile go too.
      this.release();
    } finally {
      this.inFlight = 0;
      for (const resolve of waiters) resolve();
    }
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Exponential from retryBaseMs, capped, with "equal jitter" (half fixed, half random) so that instances do not retry in step. */
  private retryDelayMs(): number {
    const exponential = Math.min(this.options.maxRetryDelayMs, this.options.retryBaseMs * 2 ** (this.consecutiveFailures - 1));
    return exponential / 2 + (exponential / 2) * this.random();
  }
}
