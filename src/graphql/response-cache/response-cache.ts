import { createHash } from 'node:crypto';

import type { BusEvent } from '../../cache/cache-bus';
import type { CacheKeys } from '../../cache/cache-keys';
import type { CacheService } from '../../cache/cache.service';
import type { Loaded } from '../../cache/fleet-flight';
import type { SingleFlight } from '../../cache/single-flight';
import { TaggedLru } from '../../cache/tagged-lru';
import type { CacheScope } from './cache-policy';
import { OperationDigests } from './operation-digest';

/** Distinct document texts whose digest is remembered (see OperationDigests). */
const REMEMBERED_DOCUMENTS = 2_000;

/** One GraphQL operation as sent: what the cache key is made of. */
export interface OperationRequest {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
}

/** A response as stored: the body bytes exactly as first sent, and what the headers need. */
export interface StoredResponse {
  /** Bytes, not a string: the socket takes them without encoding them again on every hit. */
  readonly body: Buffer;
  readonly etag: string;
  readonly storedAtMs: number;
  readonly maxAgeSeconds: number;
  readonly scope: CacheScope;
  readonly tags: readonly string[];
}

export type HitTier = 'near' | 'shared';

export interface ResponseCacheOptions {
  /** In-process copy in front of Redis; `false` reads Redis on every hit. */
  readonly nearEnabled: boolean;
  readonly nearMaxBytes: number;
  /** A near copy lives at most this long, bounding staleness if an invalidation message is lost. */
  readonly nearMaxTtlSeconds: number;
  /** Hash of the schema: a new schema never serves responses cached under the old one. */
  readonly schemaVersion: string;
  /** Token bound of a parse, as Apollo's (GRAPHQL_MAX_TOKENS). */
  readonly maxTokens: number;
}

export interface ResponseCacheMetrics {
  readonly hits: number;
  readonly near_hits: number;
  readonly shared_hits: number;
  readonly misses: number;
  readonly stores: number;
  readonly executions: number;
  readonly coalesced: number;
  /** Misses answered by the response another instance executed and stored (see fleetFlight). */
  readonly fleet_coalesced: number;
  readonly uncacheable: number;
  readonly not_modified: number;
  readonly near_entries: number;
  /** What the near copies weigh against RESPONSE_CACHE_NEAR_MAX_BYTES (bodies, keys, tags). */
  readonly near_bytes: number;
}

/**
 * Whole-response cache on the two-tier cache. Responses are kept as the exact bytes first sent,
 * so a hit costs a lookup and a write to the socket: no parse, no execution, no serialisation.
 * Keys cover the document, operation name, variables, schema version and, for PRIVATE responses,
 * the viewer. Tags recorded at execution let any invalidation evict what shows the changed data,
 * here (near copies) and, through the cache bus, on every instance.
 */
export class ResponseCache {
  private readonly near: TaggedLru<StoredResponse> | undefined;
  private readonly digests: OperationDigests;
  /** Ended by every invalidation (see CacheService.newFlight). */
  private readonly flights: SingleFlight<{ readonly shareable: boolean }>;
  private readonly counters = { hits: 0, near_hits: 0, shared_hits: 0, misses: 0, stores: 0, executions: 0, coalesced: 0, fleet_coalesced: 0, uncacheable: 0, not_modified: 0 };

  constructor(
    private readonly cache: CacheService,
    private readonly keys: CacheKeys,
    private readonly options: ResponseCacheOptions,
  ) {
    this.flights = cache.newFlight();
    this.digests = new OperationDigests({ maxDocuments: REMEMBERED_DOCUMENTS, maxTokens: options.maxTokens });
    if (options.nearEnabled) {
      this.near = new TaggedLru<StoredResponse>({ maxBytes: options.nearMaxBytes, sizeOf: (entry, key) => entry.body.length + key.length * 2 + 200 });
    }
    cache.bus.onEvent((event) => this.onBusEvent(event));
  }

  /**
   * The public key, and the key of this viewer's private copy (the same hash, suffixed with the
   * viewer), from what the operation means rather than how it is spelled (see OperationDigests).
   * `undefined` for an operation the cache cannot key (it does not parse, or names no operation
   * of its document): Apollo answers it.
   */
  keysFor(operation: OperationRequest, identity: string): { readonly publicKey: string; readonly privateKey: string } | undefined {
    const digest = this.digests.digest(operation.query, operation.operationName, operation.variables);
    if (digest === undefined) return undefined;
    const publicKey = this.keys.graphqlResponse(`${this.options.schemaVersion}:${digest}`);
    return { publicKey, privateKey: this.privateKeyOf(publicKey, identity) };
  }

  /** The key of a viewer's PRIVATE response, from the operation's public key. */
  privateKeyOf(publicKey: string, identity: string): string {
    return `${publicKey}:${identity}`;
  }

  /**
   * The in-process copy, if any: synchronous, the cheapest possible hit. Only while the cache bus
   * hears every invalidation: a copy that an unheard write made stale must not be served.
   */
  nearLookup(publicKey: string, privateKey: string): StoredResponse | undefined {
    if (this.near === undefined || !this.cache.bus.coherent) return undefined;
    const near = this.near.get(publicKey) ?? this.near.get(privateKey);
    if (near !== undefined) this.hit({ response: near, tier: 'near' });
    return near;
  }

  /** Near copy first, then the shared tier. */
  async lookup(publicKey: string, privateKey: string): Promise<{ response: StoredResponse; tier: HitTier } | undefined> {
    const near = this.nearLookup(publicKey, privateKey);
    if (near !== undefined) return { response: near, tier: 'near' };
    const shared = await this.sharedLookup(publicKey, privateKey);
    return shared === undefined ? undefined : { response: shared, tier: 'shared' };
  }

  /** One round trip for both keys to the shared tier; a hit fills the near copy. */
  async sharedLookup(publicKey: string, privateKey: string): Promise<StoredResponse | undefined> {
    const found = await this.readShared(publicKey, privateKey);
    if (found === undefined) this.counters.misses += 1;
    else this.hit({ response: found, tier: 'shared' });
    return found;
  }

  /**
   * A query that missed on every tier runs on one instance of the fleet; the others wait, bounded,
   * for the response it stores (see FleetFlight). `execute` runs under the lease and starts its
   * store; the lease is held until that lands. `fromStored` turns another instance's stored
   * response into the caller's result.
   */
  async fleetFlight<T>(publicKey: string, privateKey: string, fromStored: (response: StoredResponse) => T, execute: () => Promise<Loaded<T>>): Promise<T> {
    const peek = async () => {
      const found = await this.readShared(publicKey, privateKey);
      return found === undefined ? undefined : fromStored(found);
    };
    const { value, joined } = await this.cache.fleet.run(privateKey, peek, execute);
    if (joined) this.counters.fleet_coalesced += 1;
    return value;
  }

  /**
   * Runs `execute` once for concurrent identical requests (same key and viewer); the others wait
   * for its result. A result the leader marks as not shareable (a mutation) is not reused: the
   * follower runs `execute` itself.
   */
  async singleFlight<T extends { readonly shareable: boolean }>(flightKey: string, execute: () => Promise<T>): Promise<T> {
    const { result, joined } = this.flights.run(flightKey, execute);
    if (!joined) return result as Promise<T>;
    const shared = (await result) as T;
    if (!shared.shareable) return execute();
    this.counters.coalesced += 1;
    return shared;
  }

  /**
   * Stores a response unless an invalidation happened since `epoch` (it may show old data): the
   * response to answer with, and its store under way. The near copy is kept at once; the shared
   * tier's copy lands behind the answer, tracked by the cache like any write under way, so an
   * invalidation still waits for it.
   */
  store(key: string, body: Buffer, policy: { ttlSeconds: number; scope: CacheScope; tags: ReadonlySet<string> }, epoch: number): Loaded<StoredResponse> | undefined {
    if (this.cache.invalidationEpoch !== epoch) return undefined;
    const response: StoredResponse = {
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`,
      storedAtMs: Date.now(),
      maxAgeSeconds: policy.ttlSeconds,
      scope: policy.scope,
      tags: [...policy.tags],
    };
    const stored = this.cache.setRaw([{ key, value: encodeStored(response), ttlSeconds: policy.ttlSeconds, tags: response.tags }]);
    this.counters.stores += 1;
    this.remember(key, response, epoch);
    return { value: response, stored };
  }

  /** Capture before executing; pass to store, which refuses if an invalidation happened since. */
  epoch(): number {
    return this.cache.invalidationEpoch;
  }

  /** An operation actually executed (a miss that no flight could answer). */
  noteExecution(): void {
    this.counters.executions += 1;
  }

  noteUncacheable(): void {
    this.counters.uncacheable += 1;
  }

  noteNotModified(): void {
    this.counters.not_modified += 1;
  }

  metrics(): ResponseCacheMetrics {
    return { ...this.counters, near_entries: this.near?.size ?? 0, near_bytes: this.near?.bytes ?? 0 };
  }

  private async readShared(publicKey: string, privateKey: string): Promise<StoredResponse | undefined> {
    const epoch = this.cache.invalidationEpoch;
    const [publicRaw, privateRaw] = await this.cache.getRaw([publicKey, privateKey]);
    const found = decodeStored(publicRaw) ?? decodeStored(privateRaw);
    if (found !== undefined) this.remember(found.scope === 'PUBLIC' ? publicKey : privateKey, found, epoch);
    return found;
  }

  private hit(found: { response: StoredResponse; tier: HitTier }): { response: StoredResponse; tier: HitTier } {
    this.counters.hits += 1;
    if (found.tier === 'near') this.counters.near_hits += 1;
    else this.counters.shared_hits += 1;
    return found;
  }

  /**
   * Keeps a near copy of what was read or stored, unless an invalidation came in since `epoch`
   * (the read may have raced it, and the bus message that would drop the copy has gone by), or one
   * that reaches it is still under way (the read may have found a late write in Redis).
   */
  private remember(key: string, response: StoredResponse, epoch: number): void {
    if (this.near === undefined || this.cache.invalidationEpoch !== epoch || !this.cache.bus.coherent || this.cache.underInvalidation(key, response.tags)) return;
    const remainingSeconds = response.maxAgeSeconds - (Date.now() - response.storedAtMs) / 1000;
    const ttlMs = Math.min(remainingSeconds, this.options.nearMaxTtlSeconds) * 1000;
    if (ttlMs <= 0) return;
    this.near.set(key, ownBytes(response), ttlMs, response.tags);
  }

  /** Every invalidation, local or from another instance, drops the near copies it concerns. */
  private onBusEvent(event: BusEvent): void {
    if (event.kind === 'reset') this.near?.clear();
    else if (event.kind === 'invalidation') this.near?.invalidate(event.invalidation);
  }
}

/**
 * The response with a body that is its own memory. A body under 4 KiB made by Buffer.from is a
 * slice of an 8 KiB slab shared with other allocations, which a kept copy would hold whole while
 * the byte bound counted only the slice.
 */
function ownBytes(response: StoredResponse): StoredResponse {
  const { body } = response;
  if (body.byteLength === body.buffer.byteLength) return response;
  const own = Buffer.allocUnsafeSlow(body.byteLength);
  body.copy(own);
  return { ...response, body: own };
}

/** `{header}\n{body}`: a hit parses only the small header, never the body. */
function encodeStored(response: StoredResponse): string {
  const header = { e: response.etag, t: response.storedAtMs, m: response.maxAgeSeconds, s: response.scope, g: response.tags };
  return `${JSON.stringify(header)}\n${response.body.toString('utf8')}`;
}

/** `undefined` for absent or unreadable entries (a corrupt entry is a miss, never an error). */
function decodeStored(raw: string | undefined): StoredResponse | undefined {
  if (raw === undefined) return undefined;
  const newline = raw.indexOf('\n');
  if (newline === -1) return undefined;
  try {
    const header = JSON.parse(raw.slice(0, newline)) as { e?: unknown; t?: unknown; m?: unknown; s?: unknown; g?: unknown };
    if (typeof header.e !== 'string' || typeof header.t !== 'number' || typeof header.m !== 'number' || (header.s !== 'PUBLIC' && header.s !== 'PRIVATE') || !Array.isArray(header.g)) {
      return undefined;
    }
    return { body: Buffer.from(raw.slice(newline + 1), 'utf8'), etag: header.e, storedAtMs: header.t, maxAgeSeconds: header.m, scope: header.s, tags: header.g as string[] };
  } catch {
    return undefined;
  }
}
