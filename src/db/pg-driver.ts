import { Pool, type PoolClient } from 'pg';

import { databaseUnavailable } from '../errors';
import type { SqlDriver } from './database';

/** Socket-level failures: the server is gone or unreachable, not the query wrong. */
const NETWORK_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server that is shutting down (57P01, 57P02), starting up or recovering (57P03), or full (53300). */
const SERVER_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * Whether an error means "the database cannot answer now" rather than "this query failed".
 * `pg` reports a dropped connection or a connect timeout by message only, without a code. Read by
 * shape, not `instanceof`: errors from another realm (a Jest VM context) are not `Error`s here.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  // Node's AggregateError when several addresses of one host all refuse.
  if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
  if (typeof code === 'string' && (NETWORK_FAILURES.has(code) || SERVER_UNAVAILABLE.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/** Rethrows an outage as DATABASE_UNAVAILABLE (public, retryable); any other error unchanged. */
function rethrow(error: unknown): never {
  throw isDatabaseUnavailable(error) ? databaseUnavailable(error) : error;
}

/**
 * PostgreSQL over a bounded `pg` pool. An unreachable server is reported as DATABASE_UNAVAILABLE,
 * and the pool reconnects by itself on the next query once the server is back.
 */
export class PgDriver implements SqlDriver {
  private readonly pool: Pool;

  constructor(options: { url: string; poolSize: number; statementTimeoutMs?: number }) {
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const result = await this.pool.query(sql, params as unknown[]).catch(rethrow);
    return result.rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql).catch(rethrow);
  }

  async transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(rethrow);
    try {
      await client.query('begin');
      const result = await work(new PgClientDriver(client));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      return rethrow(error);
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class PgClientDriver implements SqlDriver {
  constructor(private readonly client: PoolClient) {}

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.client.query(sql, params as unknown[])).rows as Row[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return work(this);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
