import type { Database } from '../db/database';
import type { Invalidation } from './invalidation-journal';

/**
 * Invalidations kept where every instance can read them.
 *
 * - Those Redis could not take (pending): the instance's own journal (InvalidationJournal) lives
 *   and dies with its process, and only it replays it. Kept here too, an invalidation outlives its
 *   instance (replaced or crashed before Redis came back), and whichever instance reaches Redis
 *   first applies it, before it serves from Redis again; instances already serving read it at
 *   their next health check.
 * - Those Redis took, for a while: an instance cut off from Redis serves from its memory tier and
 *   cannot hear the fleet's invalidations on the bus; it reads them here (SharedJournalFollower).
 */
export interface SharedJournal {
  /** Whether other gateways may read it (an embedded database serves one): only then is there anyone to follow. */
  readonly fleetWide: boolean;
  /** Keeps `invalidation` for every instance, `pending` until a replay applies it to Redis; rejects when it cannot. */
  add(invalidation: Invalidation, pending: boolean): Promise<void>;
  /** Applies every pending invalidation with `apply`, oldest first, and marks those applied; rejects (keeping the rest) at the first failure. */
  replay(apply: (invalidation: Invalidation) => Promise<void>): Promise<void>;
  /** Every invalidation kept within the last `lookBackMs` (by the database's clock), pending or not, oldest first. */
  recent(lookBackMs: number): Promise<readonly KeptInvalidation[]>;
}

export interface KeptInvalidation {
  readonly id: string;
  readonly invalidation: Invalidation;
}

/** Entries read per round; more than this pending is replayed as one namespace-wide invalidation. */
const BATCH = 1_000;
/** A statement that takes longer counts as failed: a health check must not hang on a frozen database. */
const STATEMENT_TIMEOUT_MS = 2_000;
/**
 * How long invalidations Redis took stay readable: far beyond what a follower reads back (see
 * SharedJournalFollower), and they are removed at most this often.
 */
const KEEP_APPLIED_MS = 60_000;

/**
 * The shared journal in PostgreSQL (migration 5), one namespace per cache key prefix, so that
 * gateways with different prefixes on one database leave each other's entries alone. Its
 * statements are the cache's own and are counted on their own Database, apart from requests'.
 */
export class SqlSharedJournal implements SharedJournal {
  private nextPruneMs = 0;

  constructor(
    private readonly db: Database,
    /** The cache key prefix. */
    private readonly namespace: string,
    /** The invalidation that covers the whole namespace (CacheKeys.allPattern). */
    private readonly everything: Invalidation,
    /** Whether other gateways may use this database (an embedded one serves a single gateway). */
    readonly fleetWide: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  async add(invalidation: Invalidation, pending: boolean): Promise<void> {
    await this.bounded(
      this.db.query('cache.journal.add', 'insert into cache_invalidation_journal (namespace, invalidation, pending) values ($1, $2, $3)', [this.namespace, JSON.stringify(invalidation), pending]),
    );
  }

  async replay(apply: (invalidation: Invalidation) => Promise<void>): Promise<void> {
    for (;;) {
      const rows = await this.read('cache.journal.read', 'select id::text as id, invalidation from cache_invalidation_journal where namespace = $1 and pending order by id limit $2', [this.namespace, BATCH + 1]);
      if (rows.length === 0) break;
      if (rows.length > BATCH) await apply(this.everything);
      else for (const row of rows) await apply(row.invalidation);
      // The rows read, by id, once all are applied (a failure part way applies them again next
      // time, which only deletes again): not a range, which could take a row committed since.
      await this.bounded(this.db.query('cache.journal.applied', 'update cache_invalidation_journal set pending = false where namespace = $1 and id = any($2::bigint[])', [this.namespace, rows.map((row) => row.id)]));
    }
    await this.prune();
  }

  recent(lookBackMs: number): Promise<readonly KeptInvalidation[]> {
    return this.read(
      'cache.journal.recent',
      'select id::text as id, invalidation from cache_invalidation_journal where namespace = $1 and journaled_at > now() - make_interval(secs => $2::double precision) order by id',
      [this.namespace, lookBackMs / 1000],
    );
  }

  /** Run at every health check of the instances serving from Redis: the table holds only the last minute's applied entries. */
  private async prune(): Promise<void> {
    if (this.now() < this.nextPruneMs) return;
    this.nextPruneMs = this.now() + KEEP_APPLIED_MS;
    await this.bounded(
      this.db.query('cache.journal.prune', 'delete from cache_invalidation_journal where namespace = $1 and not pending and journaled_at < now() - make_interval(secs => $2::double precision)', [
        this.namespace,
        KEEP_APPLIED_MS / 1000,
      ]),
    );
  }

  private async read(name: string, sql: string, params: readonly unknown[]): Promise<KeptInvalidation[]> {
    const rows = await this.bounded(this.db.query<{ id: string; invalidation: Invalidation | string }>(name, sql, params));
    return rows.map((row) => ({ id: row.id, invalidation: typeof row.invalidation === 'string' ? (JSON.parse(row.invalidation) as Invalidation) : row.invalidation }));
  }

  private bounded<T>(statement: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the shared invalidation journal did not answer within ${STATEMENT_TIMEOUT_MS} ms`)), STATEMENT_TIMEOUT_MS);
    });
    return Promise.race([statement, timeout]).finally(() => clearTimeout(timer));
  }
}
