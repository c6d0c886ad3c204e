/**
 * The SQL seam. Production talks to PostgreSQL through `pg`; the embedded default runs PGlite.
 * Both speak the same dialect, so repositories and migrations are written once.
 */
export interface SqlDriver {
  query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Bytes the database holds inside this process; absent for a server of its own. */
  memoryBytes?(): number;
}

/** Counts every query by a fixed label (`users.findByIds`) so tests and metrics can see N+1 problems. */
export class Database {
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(private readonly driver: SqlDriver) {}

  async query<Row>(label: string, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.total += 1;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    return this.driver.query<Row>(sql, params);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.driver.transaction(work);
  }

  /** Queries run since start, in total and per label. */
  queryCounts(): { total: number; byLabel: Readonly<Record<string, number>> } {
    return { total: this.total, byLabel: Object.fromEntries(this.counts) };
  }

  /** What the embedded database holds in this process (see PgliteDriver.memoryBytes); `undefined` for a PostgreSQL server. */
  memoryBytes(): number | undefined {
    return this.driver.memoryBytes?.();
  }

  async ping(): Promise<boolean> {
    try {
      await this.driver.query('select 1', []);
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
