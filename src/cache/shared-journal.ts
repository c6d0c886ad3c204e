import type { Database } from '../db/database';
import type { Invalidation } from './invalidation-journal';

/**
 * Invalidations that Redis could not take, kept where every instance can read them: the
 * instance's own journal (InvalidationJournal) lives and dies with its process, and only it
 * replays it. Kept here too, an invalidation outlives its instance (replaced or crashed before
 * Redis came back), and whichever instance reaches Redis first applies it, before it serves from
 * Redis again; instances already serving read it at their next health check.
 */
export interface SharedJournal {
  /** Keeps `invalidation` for every instance; rejects when it cannot. */
  add(invalidation: Invalidation): Promise<void>;
  /** Applies every kept invalidation with `apply`, oldest first, and removes those applied; rejects (keeping the rest) at the first failure. */
  replay(apply: (invalidation: Invalidation) => Promise<void>): Promise<void>;
}

/** Entries read per round; more than this pending is replayed as one namespace-wide invalidation. */
const BATCH = 1_000;
/** A statement that takes longer counts as failed: a health check must not hang on a frozen database. */
const STATEMENT_TIMEOUT_MS = 2_000;

/**
 * The shared journal in PostgreSQL (migration 5), one namespace per cache key prefix, so that
 * gateways with different prefixes on one database leave each other's entries alone. Its
 * statements are the cache's own and are counted on their own Database, apart from requests'.
 */
export class SqlSharedJournal implements SharedJournal {
  constructor(
    private readonly db: Database,
    /** The cache key prefix. */
    private readonly namespace: string,
    /** The invalidation that covers the whole namespace (CacheKeys.allPattern). */
    private readonly everything: Invalidation,
  ) {}

  async add(invalidation: Invalidation): Promise<void> {
    await this.bounded(this.db.query('cache.journal.add', 'insert into cache_invalidation_journal (namespace, invalidation) values ($1, $2)', [this.namespace, JSON.stringify(invalidation)]));
  }

  async replay(apply: (invalidation: Invalidation) => Promise<void>): Promise<void> {
    for (;;) {
      const rows = await this.bounded(
        this.db.query<{ id: string; invalidation: Invalidation | string }>(
          'cache.journal.read',
          'select id::text as id, invalidation from cache_invalidation_journal where namespace = $1 order by id limit $2',
          [this.namespace, BATCH + 1],
        ),
      );
      if (rows.length === 0) return;
      if (rows.length > BATCH) await apply(this.everything);
      else for (const row of rows) await apply(typeof row.invalidation === 'string' ? (JSON.parse(row.invalidation) as Invalidation) : row.invalidation);
      // The rows read, by id, once all are applied (a failure part way applies them again next
      // time, which only deletes again): not a range, which could take a row committed since.
      await this.bounded(this.db.query('cache.journal.remove', 'delete from cache_invalidation_journal where namespace = $1 and id = any($2::bigint[])', [this.namespace, rows.map((row) => row.id)]));
    }
  }

  private bounded<T>(statement: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the shared invalidation journal did not answer within ${STATEMENT_TIMEOUT_MS} ms`)), STATEMENT_TIMEOUT_MS);
    });
    return Promise.race([statement, timeout]).finally(() => clearTimeout(timer));
  }
}
