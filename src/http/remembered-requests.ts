import { LRUCache } from 'lru-cache';

import type { PersistedOutcome } from '../graphql/persisted/persisted-documents';
import type { OperationRequest } from '../graphql/response-cache/response-cache';
import type { IncomingOperation } from './graphql-request';

/** An operation with its text, however it was sent (text, documentId, persisted query). */
export type ResolvedOperation = OperationRequest & { readonly extensions: IncomingOperation['extensions'] };

/** What a request's bytes resolved to. */
export interface RememberedRequest {
  readonly operation: ResolvedOperation;
  /** Its response-cache key (the viewer's private key derives from it). */
  readonly publicKey: string;
  /** Counted again on each repeat, as if resolved again. */
  readonly outcome: PersistedOutcome;
  /** What it costs a rate budget (QueryCosts), so that a repeat is charged without a parse; 0 with rate limits off. */
  readonly cost: number;
}

/** Memory for remembered requests (their bytes, key and variables); the texts are held by PersistedDocuments and the response cache's digests. */
const REMEMBERED_BYTES = 4 * 1024 ** 2;

/**
 * Outcomes that the bytes of a request decide alone. Not these: free text trusted under `require`
 * (it depends on who asks), an APQ registration (it stores a document), and refusals.
 */
const BYTES_DECIDE: ReadonlySet<PersistedOutcome> = new Set<PersistedOutcome>(['listed', 'registered_hit', 'text', 'text_unlisted']);

/**
 * Requests this process has resolved, by their bytes: a GET by its URL, a POST by its body. The
 * same bytes mean the same operation on every request, since an id is its text's SHA-256 and the
 * manifests, mode and schema are fixed per process; so their parse, document resolution and cache
 * key are kept, and a repeat checks only what depends on headers (content type, CSRF, Accept, the
 * viewer). Measured: a third of a hashed GET hit's CPU (BENCHMARKS.md). Bounded by bytes.
 */
export class RememberedRequests {
  private readonly entries = new LRUCache<string, RememberedRequest>({
    maxSize: REMEMBERED_BYTES,
    // A registered (APQ) document's text is counted too: PersistedDocuments may forget it, and then
    // only this entry holds it. Other texts are in the request's bytes (the key) or in a manifest.
    sizeCalculation: (entry, key) =>
      key.length + entry.publicKey.length + JSON.stringify(entry.operation.variables ?? null).length + (entry.outcome === 'registered_hit' ? entry.operation.query.length : 0),
  });

  /**
   * `target`: the URL of a GET, the body of a POST. One key space for both: a URL starts with `/`
   * and a body that resolved is a JSON object, so neither can pass for the other.
   */
  get(target: string): RememberedRequest | undefined {
    return this.entries.get(target);
  }

  /** Kept only if its outcome depends on its bytes alone. */
  remember(target: string, entry: RememberedRequest): void {
    if (BYTES_DECIDE.has(entry.outcome)) this.entries.set(target, entry);
  }
}
