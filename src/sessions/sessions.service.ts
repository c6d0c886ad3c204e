import type { CacheKeys } from '../cache/cache-keys';
import { CacheTags } from '../cache/cache-tags';
import type { CacheService } from '../cache/cache.service';
import { hashToken, type LiveSession, type SessionsRepository } from './sessions.repository';

/**
 * Session lookups for every authenticated request, cached under `users:session:{token hash}`
 * (never the token itself) for the medium TTL, and never past the session's own expiry. Each
 * cached lookup is tagged with its user (CacheTags.sessions), so that ending a user's sessions,
 * or the operator's user-scope invalidation after a user was deactivated, evicts them on every
 * instance: the repository refuses sessions of inactive users (`users.is_active`), so the next
 * lookup, which goes to the database, is refused.
 */
export class SessionsService {
  constructor(
    private readonly sessions: Pick<SessionsRepository, 'findByTokenHash' | 'deleteByTokenHash' | 'deleteByUserId'>,
    private readonly cache: Pick<CacheService, 'get' | 'set' | 'delete' | 'deleteTagged' | 'invalidationEpoch' | 'sharedTierServing' | 'ttl'>,
    private readonly cacheKeys: CacheKeys,
  ) {}

  findUserIdByToken(token: string): Promise<number | null> {
    return this.findUserIdByTokenHash(hashToken(token));
  }

  /** The user of a live session, by the hash a Viewer keeps (a live connection checks its session again with it). */
  async findUserIdByTokenHash(tokenHash: string): Promise<number | null> {
    const key = this.cacheKeys.session(tokenHash);
    const cached = await this.cache.get<LiveSession>(key);
    // Cut off from Redis, this instance hears another's revocation only at its next health check
    // (the memory tier follows the shared journal): the database, where a revocation lands first,
    // decides, and the copy answers only while the database cannot (no revocation can land then).
    if (cached !== undefined && this.cache.sharedTierServing) return userOf(cached);
    // A revocation while the database is read must not be undone by writing the old answer back.
    const epoch = this.cache.invalidationEpoch;
    let session: LiveSession | null;
    try {
      session = await this.sessions.findByTokenHash(tokenHash);
    } catch (error) {
      if (cached !== undefined) return userOf(cached);
      throw error;
    }
    if (session === null || session.expiresAt.getTime() <= Date.now()) return null;
    const secondsLeft = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
    if (secondsLeft >= 1 && this.cache.invalidationEpoch === epoch) {
      await this.cache.set(key, session, Math.min(this.cache.ttl.medium, secondsLeft), [CacheTags.sessions(session.userId)]);
    }
    return session.userId;
  }

  /** Deletes the session, then its cached lookup (after: a lookup in between would cache it again). */
  async revokeSession(tokenHash: string): Promise<boolean> {
    const userId = await this.sessions.deleteByTokenHash(tokenHash);
    await this.cache.delete(this.cacheKeys.session(tokenHash));
    return userId !== null;
  }

  /** Deletes every session of the user, then their cached lookups. */
  async revokeUserSessions(userId: number): Promise<number> {
    const revoked = await this.sessions.deleteByUserId(userId);
    await this.cache.deleteTagged([CacheTags.sessions(userId)]);
    return revoked;
  }
}

function userOf(session: LiveSession): number | null {
  return session.expiresAt.getTime() > Date.now() ? session.userId : null;
}
