import { LRUCache } from 'lru-cache';

import type { CacheKeys } from '../../cache/cache-keys';
import type { CacheService } from '../../cache/cache.service';
import type { Logger } from '../../logger';
import type { DocumentCheck } from './document-check';
import { type DocumentId, documentIdOf, parseDocumentId, parsePersistedQuery } from './document-id';

/**
 * PERSISTED_DOCUMENTS_MODE:
 * - `allow`: ids (listed or registered) and free text;
 * - `log-unknown`: as allow, and each distinct document missing from the manifests is counted and
 *   logged once, with its id, for a rollout of `require`;
 * - `require`: only ids in a manifest; free text is refused and nothing is registered.
 */
export type PersistedDocumentsMode = 'allow' | 'log-unknown' | 'require';

export const PERSISTED_OUTCOMES = [
  'listed', // an id in a manifest
  'registered', // APQ: a text with its id, kept for the fleet
  'registered_hit', // an id registered before
  'not_found', // an id neither listed nor registered
  'text', // free text
  'text_unlisted', // free text missing from the manifests (log-unknown)
  'text_trusted', // free text from the admin or the development playground, under require
  'refused_id_required',
  'refused_not_in_list',
  'refused_invalid', // a malformed id, or a text that does not hash to its id
] as const;
export type PersistedOutcome = (typeof PERSISTED_OUTCOMES)[number];

/** The document ids and text one request carries, as sent (parsed here, so every outcome is counted in one place). */
export interface DocumentRequest {
  readonly query: string | undefined;
  /** GraphQL-over-HTTP's `documentId` parameter, if present. */
  readonly documentId: unknown;
  /** Apollo's `extensions.persistedQuery`, if present. */
  readonly persistedQuery: unknown;
  /** Named in the log line of an unlisted document. */
  readonly operationName: string | undefined;
}

export type DocumentResolution =
  | {
      readonly kind: 'document';
      readonly query: string;
      readonly outcome: PersistedOutcome;
      /** An APQ registration: keeps the text, once the request may run (charged and allowed). */
      readonly register?: () => Promise<void>;
    }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string; readonly headers?: Readonly<Record<string, string>> };

export interface PersistedDocumentsOptions {
  readonly mode: PersistedDocumentsMode;
  /** How long a registered document is kept in the shared tier (APQ_TTL_SECONDS). */
  readonly apqTtlSeconds: number;
  /** What a registered text must pass to be kept, as a manifest's must. */
  readonly check: DocumentCheck;
}

/** Documents whose text an instance remembers by id (manifest documents are all kept besides). */
const REMEMBERED_DOCUMENTS = 2_000;
/** And the most their texts may weigh (as UTF-16): 2,000 documents of the largest body allowed would be 400 MiB. */
const REMEMBERED_DOCUMENT_BYTES = 8 * 1024 ** 2;
/** Distinct unlisted documents logged under log-unknown; past it they are still counted. */
const LOGGED_UNLISTED = 10_000;

/**
 * Turns the ids a request carries into the document to run, or a refusal. Listed documents (the
 * manifests, loaded and validated at start) live in memory; registered ones (Apollo's automatic
 * persisted queries) in the shared cache tier, so that a document registered through one instance
 * is known to all (and, while Redis is down, in this instance's memory tier), beside the cache's
 * namespace so that invalidating data never drops them. Each instance remembers the texts it has
 * resolved, so that a hashed request reads no document in steady state; the response cache then
 * keys it by the text's meaning, exactly as the same operation sent as text.
 */
export class PersistedDocuments {
  private readonly remembered = new LRUCache<DocumentId, string>({
    max: REMEMBERED_DOCUMENTS,
    maxSize: REMEMBERED_DOCUMENT_BYTES,
    sizeCalculation: (text, id) => (text.length + id.length) * 2,
  });
  private readonly loggedUnlisted = new LRUCache<DocumentId, true>({ max: LOGGED_UNLISTED });
  private readonly counts = Object.fromEntries(PERSISTED_OUTCOMES.map((outcome) => [outcome, 0])) as Record<PersistedOutcome, number>;

  constructor(
    private readonly listed: ReadonlyMap<DocumentId, string>,
    private readonly cache: CacheService,
    private readonly keys: CacheKeys,
    private readonly options: PersistedDocumentsOptions,
    private readonly logger: Logger,
  ) {}

  get mode(): PersistedDocumentsMode {
    return this.options.mode;
  }

  /** `trusted`: the admin, or the playground in development, who keep free text under `require`. */
  async resolve(request: DocumentRequest, trusted: boolean): Promise<DocumentResolution> {
    const id = this.idOf(request);
    if (typeof id === 'object') return this.refuse('refused_invalid', 400, 'PERSISTED_QUERY_ID_INVALID', id.invalid);
    const { query, operationName } = request;
    if (id === undefined) return query === undefined ? this.refuse('refused_invalid', 400, 'BAD_REQUEST', 'Send a query, or the documentId of a persisted one') : this.freeText(query, operationName, trusted);
    if (query !== undefined) {
      if (documentIdOf(query) !== id) return this.refuse('refused_invalid', 400, 'PERSISTED_QUERY_HASH_MISMATCH', 'The query does not hash (SHA-256) to the id sent with it; nothing was run or stored');
      return this.withText(id, query, operationName);
    }
    return this.byId(id);
  }

  /** Counts a request resolved earlier to the same outcome (a remembered hashed GET). */
  note(outcome: PersistedOutcome): void {
    this.counts[outcome] += 1;
  }

  outcomes(): Readonly<Record<PersistedOutcome, number>> {
    return { ...this.counts };
  }

  /** The one id a request names, `undefined` for none, or why its ids are not acceptable. */
  private idOf(request: DocumentRequest): DocumentId | undefined | { readonly invalid: string } {
    const fromParameter = request.documentId === undefined ? undefined : parseDocumentId(request.documentId);
    const fromExtension = request.persistedQuery === undefined ? undefined : parsePersistedQuery(request.persistedQuery);
    if (typeof fromParameter === 'object') return fromParameter;
    if (typeof fromExtension === 'object') return fromExtension;
    if (fromParameter !== undefined && fromExtension !== undefined && fromParameter !== fromExtension) {
      return { invalid: 'documentId and extensions.persistedQuery name different documents' };
    }
    return fromParameter ?? fromExtension;
  }

  private freeText(query: string, operationName: string | undefined, trusted: boolean): DocumentResolution {
    switch (this.options.mode) {
      case 'allow':
        return this.accept('text', query);
      case 'log-unknown': {
        const id = documentIdOf(query);
        if (this.listed.has(id)) return this.accept('text', query);
        this.noteUnlisted(id, operationName);
        return this.accept('text_unlisted', query);
      }
      case 'require':
        if (trusted) return this.accept('text_trusted', query);
        return this.refuse('refused_id_required', 400, 'PERSISTED_QUERY_ID_REQUIRED', 'This gateway runs persisted documents only: send the documentId (or extensions.persistedQuery) of a listed document');
    }
  }

  /**
   * A text with its (verified) id: a listed document, or an APQ registration, which the caller
   * keeps (`register`) only once the request may run: a refused request stores nothing.
   */
  private withText(id: DocumentId, query: string, operationName: string | undefined): DocumentResolution {
    if (this.listed.has(id)) return this.accept('listed', query);
    if (this.options.mode === 'require') return this.notInList();
    if (this.options.mode === 'log-unknown') this.noteUnlisted(id, operationName);
    return { ...this.accept('registered', query), register: () => this.register(id, query) };
  }

  /** Keeps a text that parses and validates, as Apollo's APQ does: no one fills the shared tier with texts that cannot run. */
  private async register(id: DocumentId, query: string): Promise<void> {
    if (this.options.check(query) !== undefined) return;
    this.remembered.set(id, query);
    await this.cache.set(this.keys.persistedDocument(id), query, this.options.apqTtlSeconds);
  }

  private async byId(id: DocumentId): Promise<DocumentResolution> {
    const listed = this.listed.get(id);
    if (listed !== undefined) return this.accept('listed', listed);
    if (this.options.mode === 'require') return this.notInList();
    const known = this.remembered.get(id) ?? (await this.registered(id));
    if (known !== undefined) return this.accept('registered_hit', known);
    // Apollo's answer, which its clients recognise: they send the text with the id once, and
    // nothing in between may keep this answer for the next client.
    return this.refuse('not_found', 200, 'PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound', { 'cache-control': 'private, no-cache, must-revalidate' });
  }

  /** A registered document from the shared tier; a text that does not hash to its id (a corrupt or planted entry) is not one. */
  private async registered(id: DocumentId): Promise<string | undefined> {
    const text = await this.cache.get<unknown>(this.keys.persistedDocument(id));
    if (typeof text !== 'string' || documentIdOf(text) !== id) return undefined;
    this.remembered.set(id, text);
    return text;
  }

  private notInList(): DocumentResolution {
    return this.refuse('refused_not_in_list', 404, 'PERSISTED_QUERY_NOT_IN_LIST', 'No persisted document has this id: this gateway runs listed documents only');
  }

  private noteUnlisted(id: DocumentId, operationName: string | undefined): void {
    if (this.loggedUnlisted.has(id)) return;
    this.loggedUnlisted.set(id, true);
    this.logger.warn({ documentId: id, operationName: operationName ?? null }, 'persisted documents: an operation missing from the manifests was served (log-unknown)');
  }

  private accept(outcome: PersistedOutcome, query: string): Extract<DocumentResolution, { kind: 'document' }> {
    this.counts[outcome] += 1;
    return { kind: 'document', query, outcome };
  }

  private refuse(outcome: PersistedOutcome, status: number, code: string, message: string, headers?: Readonly<Record<string, string>>): DocumentResolution {
    this.counts[outcome] += 1;
    return { kind: 'refused', status, code, message, ...(headers === undefined ? {} : { headers }) };
  }
}
