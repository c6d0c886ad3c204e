import { Authenticator } from '../../src/sessions/authenticator';
import type { SessionsService } from '../../src/sessions/sessions.service';

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
