import type { Database } from './database';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** Append-only: a released migration is never edited, a change is a new entry. */
export const migrations: readonly Migration[] = [
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
  {
    id: 2,
    name: 'signal prices finite and in range',
    // double precision holds 'Infinity' and 'NaN', and PostgreSQL orders NaN above every number
    // (Infinity included), so one range test refuses both, and -Infinity with them: the API could
    // not serve such a row (a Float cannot represent it), and one of them made every list of signals
    // fail (issue 13). 1e6 is MAX_PRICE in src/graphql/validators.ts, which gives the reasons for it.
    // Rows stored before this check that break it are moved aside, not lost, for someone to look at;
    // confidence needs nothing: its check (>= 0 and <= 1) already refuses NaN and both infinities.
    sql: `
      create table trading_signals_quarantine as
        select s.*, now() as quarantined_at, 'price not finite, not positive or above 1e6'::text as reason
        from trading_signals s
        where not (entry_price > 0 and entry_price <= 1e6)
           or (stop_loss is not null and not (stop_loss > 0 and stop_loss <= 1e6))
           or (take_profit is not null and not (take_profit > 0 and take_profit <= 1e6));
      delete from trading_signals where id in (select id from trading_signals_quarantine);
      alter table trading_signals
        add constraint trading_signals_entry_price_range check (entry_price > 0 and entry_price <= 1e6),
        add constraint trading_signals_stop_loss_range check (stop_loss > 0 and stop_loss <= 1e6),
        add constraint trading_signals_take_profit_range check (take_profit > 0 and take_profit <= 1e6);
    `,
  },
  {
    id: 3,
    name: 'user emails unique in any case, stored in lower case',
    // Two addresses differing only in case are one mailbox in practice. Accounts that already share
    // one that way cannot be merged by a migration: it stops, naming their ids (not the addresses,
    // which are private and would land in logs), for a person to decide.
    sql: `
      do $$
      declare duplicates text;
      begin
        select string_agg(id::text, ', ' order by id) into duplicates
          from users where lower(email) in (select lower(email) from users group by lower(email) having count(*) > 1);
        if duplicates is not null then
          raise exception 'users % share emails that differ only in case; resolve them, then migrate again', duplicates;
        end if;
      end $$;
      update users set email = lower(email) where email <> lower(email);
      create unique index users_email_lower_key on users (lower(email));
    `,
  },
  {
    id: 4,
    name: 'keyset indexes for paged signal lists',
    // A page is read from its bound on (created_at, id), newest first (SignalsRepository.findPage).
    // Lists by symbol and by author already had theirs (migration 1); these add the unfiltered
    // list and the status-filtered ones (the ACTIVE feed). So every list has an index that a page
    // can walk from its cursor, whatever its depth; the planner picks among them by cost (at the
    // demo's size it walks the created_at index and filters, about 20 rows read per page row of an
    // instrument's list; see BENCHMARKS.md, "Paged signals"). Filters that no index leads with
    // (timeframe, direction) are applied while walking.
    sql: `
      create index trading_signals_created on trading_signals (created_at desc, id desc);
      create index trading_signals_status_created on trading_signals (status, created_at desc, id desc);
    `,
  },
  {
    id: 5,
    name: 'shared journal of cache invalidations',
    // Invalidations Redis could not take, for whichever instance reaches it first (src/cache/shared-journal.ts).
    sql: `
      create table cache_invalidation_journal (
        id bigserial primary key,
        namespace text not null,
        invalidation jsonb not null,
        journaled_at timestamptz not null default now()
      );
      create index cache_invalidation_journal_namespace on cache_invalidation_journal (namespace, id);
    `,
  },
  {
    id: 6,
    name: 'every cache invalidation in the shared journal, for instances cut off from Redis',
    // Invalidations Redis took are kept a little while too (not pending), so that an instance
    // serving from its memory tier can read them (src/cache/shared-journal-follower.ts).
    sql: `
      alter table cache_invalidation_journal add column pending boolean not null default true;
      create index cache_invalidation_journal_recent on cache_invalidation_journal (namespace, journaled_at);
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
