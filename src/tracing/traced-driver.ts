import type { SqlDriver } from '../db/database';
import { endAfter, type Tracing } from './tracing';

/**
 * A SQL driver whose statements are spans: named by operation and table (`SELECT signals`), with
 * the statement's text (never its parameters, which may be personal data). A transaction is a
 * span of its own, its statements under it.
 */
export class TracedDriver implements SqlDriver {
  readonly memoryBytes?: () => number;

  constructor(
    private readonly inner: SqlDriver,
    private readonly tracing: Tracing,
  ) {
    if (inner.memoryBytes !== undefined) this.memoryBytes = () => inner.memoryBytes?.() ?? 0;
  }

  query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const span = this.tracing.startChild(statementName(sql), { 'db.system.name': 'postgresql', 'db.query.text': sql });
    return endAfter(span, () => this.inner.query<Row>(sql, params), (done, rows) => done.setAttribute('db.response.returned_rows', rows.length));
  }

  exec(sql: string): Promise<void> {
    return endAfter(this.tracing.startChild('db.exec', { 'db.system.name': 'postgresql' }), () => this.inner.exec(sql));
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    const span = this.tracing.startChild('db.transaction', { 'db.system.name': 'postgresql' });
    if (span === undefined) return this.inner.transaction((tx) => work(new TracedDriver(tx, this.tracing)));
    return endAfter(span, () => this.tracing.within(span, () => this.inner.transaction((tx) => work(new TracedDriver(tx, this.tracing)))));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `SELECT signals`: the statement's first keyword and the first table it names (a summary, as OpenTelemetry's database conventions name spans). */
function statementName(sql: string): string {
  const operation = /^\s*(?:with\b[\s\S]*?\)\s*)?([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
  const table = /\b(?:from|into|update|join)\s+"?([a-z_][a-z0-9_.]*)/i.exec(sql)?.[1];
  return table === undefined ? operation : `${operation} ${table}`;
}
