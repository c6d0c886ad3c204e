import { createHash } from 'node:crypto';

import type { Database } from '../db/database';

/** Session tokens are never stored: only their SHA-256, so a leaked table grants nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionsRepository {
  constructor(private readonly db: Database) {}

  /** The user of an unexpired session with this token, or `null`. */
  async findUserIdByToken(token: string): Promise<number | null> {
    const rows = await this.db.query<{ userId: number }>(
      'sessions.findUserIdByToken',
      `select s.user_id as "userId" from user_sessions s join users u on u.id = s.user_id
       where s.token_hash = $1 and s.expires_at > now() and u.is_active`,
      [hashToken(token)],
    );
    return rows[0]?.userId ?? null;
  }
}
