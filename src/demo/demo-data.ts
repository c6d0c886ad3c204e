import type { Database } from '../db/database';
import { DEMO_INSTRUMENTS, TIMEFRAMES } from '../market/instruments';
import { hashToken } from '../sessions/sessions.repository';
import { SIGNAL_DIRECTIONS } from '../signals/signal.model';
import type { SignalStatus } from '../signals/signal.model';
import { USER_TIERS } from '../users/user.model';

export const DEMO_USER_COUNT = 1_000;
export const DEMO_SIGNAL_COUNT = 20_000;
/** The newest demo signal is this old; every other timestamp is derived from it, so reseeding gives the same data. */
const REFERENCE_TIME_MS = Date.UTC(2026, 10, 1);

/** Sessions documented in the README, so that a newcomer can try `me` and private fields. */
export const DEMO_SESSIONS: readonly { token: string; userId: number; expired: boolean }[] = [
  { token: 'demo-alice-session-token', userId: 1, expired: false },
  { token: 'demo-bob-session-token', userId: 2, expired: false },
  { token: 'demo-carol-session-token', userId: 3, expired: false },
  { token: 'demo-expired-session-token', userId: 1, expired: true },
];

const FIRST_NAMES = ['Alice', 'Bob', 'Carol', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Liam', 'Maya', 'Noah', 'Olga', 'Priya'];
const LAST_NAMES = ['Anders', 'Brooks', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Moreau', 'Nakamura'];
const STATUS_WEIGHTS: readonly [SignalStatus, number][] = [['ACTIVE', 0.25], ['EXECUTED', 0.45], ['EXPIRED', 0.2], ['CANCELLED', 0.1]];

/**
 * Fills an empty store with deterministic demo data (same seed, same rows). Does nothing when
 * users already exist. Returns whether it seeded.
 */
export async function seedDemoData(db: Database): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(727275)', []);
    const existing = await tx.query<{ count: number }>('select count(*)::int as count from users', []);
    if ((existing[0]?.count ?? 0) > 0) return false;

    const random = mulberry32(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

    const users = { username: [] as string[], email: [] as string[], displayName: [] as string[], tier: [] as string[], createdAt: [] as string[] };
    for (let i = 1; i <= DEMO_USER_COUNT; i += 1) {
      const first = i <= 3 ? FIRST_NAMES[i - 1]! : pick(FIRST_NAMES);
      const last = pick(LAST_NAMES);
      const username = i <= 3 ? first.toLowerCase() : `${first.toLowerCase()}.${last.toLowerCase()}${i}`;
      users.username.push(username);
      users.email.push(`${username}@example.com`);
      users.displayName.push(`${first} ${last}`);
      users.tier.push(random() < 0.7 ? USER_TIERS[0] : pick(USER_TIERS));
      users.createdAt.push(new Date(REFERENCE_TIME_MS - (DEMO_USER_COUNT - i + 1) * 86_400_000 / 4).toISOString());
    }
    await tx.query(
      `insert into users (username, email, display_name, tier, created_at, updated_at)
       select u, e, d, t, c, c from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) as x(u, e, d, t, c)
       order by c`,
      [users.username, users.email, users.displayName, users.tier, users.createdAt],
    );

    const batchSize = 5_000;
    for (let start = 0; start < DEMO_SIGNAL_COUNT; start += batchSize) {
      const columns = { userId: [] as number[], symbol: [] as string[], timeframe: [] as string[], direction: [] as string[], status: [] as string[],
        entry: [] as number[], stop: [] as number[], take: [] as number[], confidence: [] as number[], createdAt: [] as string[] };
      for (let i = start; i < Math.min(start + batchSize, DEMO_SIGNAL_COUNT); i += 1) {
        const instrument = pick(DEMO_INSTRUMENTS);
        const direction = pick(SIGNAL_DIRECTIONS);
        const factor = 10 ** instrument.decimals;
        const entry = Math.round(instrument.basePrice * (1 + (random() - 0.5) * 0.04) * factor) / factor;
        const risk = Math.round(entry * (0.002 + random() * 0.006) * factor) / factor;
        const sign = direction === 'BUY' ? 1 : -1;
        columns.userId.push(1 + Math.floor(random() * DEMO_USER_COUNT));
        columns.symbol.push(instrument.symbol);
        columns.timeframe.push(pick(TIMEFRAMES));
        columns.direction.push(direction);
        columns.status.push(weighted(random(), STATUS_WEIGHTS));
        columns.entry.push(entry);
        columns.stop.push(Math.round((entry - sign * risk) * factor) / factor);
        columns.take.push(Math.round((entry + sign * risk * 2) * factor) / factor);
        columns.confidence.push(Math.round((0.5 + random() * 0.49) * 1000) / 1000);
        columns.createdAt.push(new Date(REFERENCE_TIME_MS - i * 97_000).toISOString());
      }
      await tx.query(
        `insert into trading_signals (user_id, symbol, timeframe, direction, status, entry_price, stop_loss, take_profit, confidence, created_at, updated_at)
         select *, c from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::timestamptz[])
           as x(u, s, t, d, st, e, sl, tp, cf, c)`,
        [columns.userId, columns.symbol, columns.timeframe, columns.direction, columns.status, columns.entry, columns.stop, columns.take, columns.confidence, columns.createdAt],
      );
    }

    for (const session of DEMO_SESSIONS) {
      await tx.query(
        `insert into user_sessions (user_id, token_hash, expires_at) values ($1, $2, now() + ($3 || ' days')::interval)`,
        [session.userId, hashToken(session.token), session.expired ? '-1' : '365'],
      );
    }
    return true;
  });
}

function weighted<T>(roll: number, weights: readonly [T, number][]): T {
  let total = 0;
  for (const [value, weight] of weights) {
    total += weight;
    if (roll < total) return value;
  }
  return weights[weights.length - 1]![0];
}

/** A small, fast, seedable PRNG (mulberry32): the demo data must be identical on every machine, and so must a benchmark's request sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
