import { CacheKeys } from '../../src/cache/cache-keys';
import { Authenticator } from '../../src/sessions/authenticator';
import { hashToken, type LiveSession } from '../../src/sessions/sessions.repository';
import { SessionsService } from '../../src/sessions/sessions.service';

const ADMIN = 'admin-token-0123456789abcdef';

/** An in-memory session store: the edge we own. */
const sessions = (live: Record<string, number>) => ({ findUserIdByToken: (token: string) => Promise.resolve(live[token] ?? null) }) satisfies Pick<SessionsService, 'findUserIdByToken'>;

describe('the authenticator', () => {
  const authenticator = new Authenticator(sessions({ 'alice-token': 1 }), ADMIN);

  it('treats a request without a header as anonymous', async () => {
    await expect(authenticator.authenticate(undefined)).resolves.toEqual({ kind: 'anonymous' });
  });

  it('recognises the admin token and session tokens', async () => {
    await expect(authenticator.authenticate(`Bearer ${ADMIN}`)).resolves.toEqual({ kind: 'admin' });
    await expect(authenticator.authenticate('bearer alice-token')).resolves.toMatchObject({ kind: 'user', userId: 1 });
  });

  it.each([
    ['a near miss of the admin token', `Bearer ${ADMIN.slice(0, -1)}x`],
    ['an unknown session', 'Bearer nobody'],
    ['another scheme', `Basic ${ADMIN}`],
    ['a token with spaces', 'Bearer a b'],
  ])('refuses %s as UNAUTHENTICATED', async (_label, header) => {
    await expect(authenticator.authenticate(header)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('grants no admin rights when no admin token is configured', async () => {
    const withoutAdmin = new Authenticator(sessions({}), undefined);
    await expect(withoutAdmin.authenticate('Bearer undefined')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});

describe('session lookups while this instance serves from its memory tier', () => {
  const keys = new CacheKeys('unit');
  const live = { userId: 7, expiresAt: new Date(Date.now() + 3_600_000) };

  /** A cache holding the lookup (in its memory tier when Redis does not serve), and the database's word. */
  function lookups(redisServing: boolean, database: () => Promise<LiveSession | null>) {
    const kept = new Map<string, unknown>([[keys.session(hashToken('carol')), live]]);
    const cache = {
      get: <T>(key: string) => Promise.resolve(kept.get(key) as T | undefined),
      set: (key: string, value: unknown) => Promise.resolve(void kept.set(key, value)),
      delete: () => Promise.resolve(0),
      deleteTagged: () => Promise.resolve(0),
      invalidationEpoch: 0,
      sharedTierServing: redisServing,
      ttl: { short: 300, medium: 1800, long: 3600, veryLong: 86400 },
    };
    const repository = { findByTokenHash: database, deleteByTokenHash: () => Promise.resolve(null), deleteByUserId: () => Promise.resolve(0) };
    return new SessionsService(repository, cache, keys);
  }

  it('ask the database, where a revocation on another instance lands first', async () => {
    await expect(lookups(false, () => Promise.resolve(null)).findUserIdByToken('carol')).resolves.toBeNull();
    // While Redis serves, every instance hears a revocation before it answers: the copy is trusted.
    await expect(lookups(true, () => Promise.resolve(null)).findUserIdByToken('carol')).resolves.toBe(7);
  });

  it('answer from the copy while the database cannot answer (no revocation can land then)', async () => {
    const down = () => Promise.reject(new Error('database unavailable'));
    await expect(lookups(false, down).findUserIdByToken('carol')).resolves.toBe(7);
    await expect(lookups(false, down).findUserIdByToken('dave')).rejects.toThrow('database unavailable');
  });
});
