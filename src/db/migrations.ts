import type { Database } from './database';

interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** Append-only: a released migration is never edited, a change is a new entry. */
const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'users, trading signals and sessions',
    sql: `
      create table users (
        id serial primary key,
        username text not null unique,
        email text not null unique,
        display_name text not null,
        tier text not null check (tier in ('FREE', 'PRO', 'INSTITUTIONAL')),
        is_active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create table trading_signals (
        id serial primary key,
        user_id integer not null references users(id),
        symbol text not null check (symbol ~ '^[A-Z]{3}_[A-Z]{3}$'),
        timeframe text not null check (timeframe in ('M1', 'M5', 'M15', 'H1', 'H4', 'D1')),
        direction text not null check (direction in ('BUY', 'SELL')),
        status text not null check (status in ('ACTIVE', 'EXECUTED', 'EXPIRED', 'CANCELLED')),
        entry_price double precision not null check (entry_price > 0),
        stop_loss double precision check (stop_loss > 0),
        take_profit double precision check (take_profit > 0),
        confidence double precision not null check (confidence >= 0 and confidence <= 1),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index trading_signals_symbol_created on trading_signals (symbol, created_at desc, id desc);
      create index trading_signals_user_created on trading_signals (user_id, created_at desc, id desc);
      create table user_sessions (
        id serial primary key,
        user_id integer not null references users(id),
        token_hash text not null unique,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      );
      create index user_sessions_user on user_sessions (user_id);
    `,
  },
];

/**
 * Applies pending migrations in order, in one transaction, under an advisory lock so that several
 * instances starting together do not race. Returns the ids applied.
 */
export async function migrate(db: Database): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(727274)', []);
    await tx.exec(`create table if not exists schema_migrations (
      id integer primary key, name text not null, applied_at timestamptz not null default now())`);
    const done = new Set((await tx.query<{ id: number }>('select id from schema_migrations', [])).map((row) => row.id));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query('insert into schema_migrations (id, name) values ($1, $2)', [migration.id, migration.name]);
      applied.push(migration.id);
    }
    return applied;
  });
}
