import { PGlite, type Transaction } from '@electric-sql/pglite';

import type { SqlDriver } from './database';

/** Embedded, in-memory PostgreSQL: the default when no DATABASE_URL is set. Starts in a few seconds. */
export class PgliteDriver implements SqlDriver {
  private constructor(private readonly db: PGlite) {}

  static async start(): Promise<PgliteDriver> {
    const db = new PGlite();
    await db.waitReady;
    return new PgliteDriver(db);
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
  close(): Promise<void> {
    return this.db.closed ? Promise.resolve() : this.db.close();
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
