import { PGlite, type Transaction } from '@electric-sql/pglite';

import { lockDataDir } from './data-dir-lock';
import type { SqlDriver } from './database';

/**
 * Embedded PostgreSQL: the default when no DATABASE_URL is set. Creating a database takes about
 * 5 s; opening one kept in a directory, well under 1 s.
 */
export class PgliteDriver implements SqlDriver {
  private constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
  ) {}

  /** In memory without `dataDir`; otherwise opens the database there (creating it when absent), for this process alone. */
  static async start(dataDir?: string): Promise<PgliteDriver> {
    if (dataDir === undefined) {
      const db = new PGlite();
      await db.waitReady;
      return new PgliteDriver(db, () => {});
    }
    const unlock = lockDataDir(dataDir);
    try {
      const db = new PGlite(dataDir);
      await db.waitReady;
      return new PgliteDriver(db, unlock);
    } catch (error) {
      unlock();
      throw new Error(`could not open the embedded database in ${dataDir} (written by another PGlite version, or damaged?): remove that directory to start afresh`, { cause: error });
    }
  }

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.db.query<Row>(sql, params as unknown[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new PgliteTransactionDriver(tx)));
  }

  /** Idempotent, as `pg`'s pool end is. */
  async close(): Promise<void> {
    if (this.db.closed) return;
    try {
      await this.db.close();
    } finally {
      this.unlock();
    }
  }
}

class PgliteTransactionDriver implements SqlDriver {
  constructor(private readonly tx: Transaction) {}

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.tx.query<Row>(sql, params as unknown[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return work(this);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
