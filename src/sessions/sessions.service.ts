import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService } from '../cache/cache.service';
import { hashToken, type LiveSession, type SessionsRepository } from './sessions.repository';

/**
 * Session lookups for every authenticated request, cached under `users:session:{token hash}`
 * (never the token itself) for the medium TTL, and never past the session's own expiry.
 */
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly cache: CacheService,
    private readonly cacheKeys: CacheKeys,
  ) {}

  async findUserIdByToken(token: string): Promise<number | null> {
    const tokenHash = hashToken(token);
    const key = this.cacheKeys.session(tokenHash);
    const cached = await this.cache.get<LiveSession>(key);
    const session = cached ?? (await this.sessions.findByTokenHash(tokenHash));
    if (session === null || session.expiresAt.getTime() <= Date.now()) return null;
    if (cached === undefined) {
      const secondsLeft = Math.floor((session.expiresAt.getTime() - Date.now()) / 1000);
      if (secondsLeft >= 1) await this.cache.set(key, session, Math.min(this.cache.ttl.medium, secondsLeft));
    }
    return session.userId;
  }
}
