import { createHash } from 'node:crypto';

import type { Database } from '../db/database';

/** Session tokens are never stored: only their SHA-256, so a leaked table grants nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface LiveSession {
  readonly userId: number;
  readonly expiresAt: Date;
}

export class SessionsRepository {
  constructor(private readonly db: Database) {}

  /** The unexpired session of an active user with this token hash, or `null`. */
  async findByTokenHash(tokenHash: string): Promise<LiveSession | null> {
    const rows = await this.db.query<LiveSession>(
      'sessions.findByTokenHash',
      `select s.user_id as "userId", s.expires_at as "expiresAt" from user_sessions s join users u on u.id = s.user_id
       where s.token_hash = $1 and s.expires_at > now() and u.is_active`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Deletes the session with this token hash; returns its user, `null` when there was none. */
  async deleteByTokenHash(tokenHash: string): Promise<number | null> {
    const rows = await this.db.query<{ userId: number }>('sessions.deleteByTokenHash', 'delete from user_sessions where token_hash = $1 returning user_id as "userId"', [tokenHash]);
    return rows[0]?.userId ?? null;
  }

  /** Deletes every session of the user; returns how many there were. */
  async deleteByUserId(userId: number): Promise<number> {
    const rows = await this.db.query<{ count: number }>(
      'sessions.deleteByUserId',
      'with deleted as (delete from user_sessions where user_id = $1 returning 1) select count(*)::int as count from deleted',
      [userId],
    );
    return rows[0]?.count ?? 0;
  }
}
