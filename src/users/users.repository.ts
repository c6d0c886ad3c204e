import type { Database } from '../db/database';
import type { UserPatch, UserRecord } from './user.model';

/** The unique constraints on users' emails: the original (exact) one and migration 3's, on lower(email). */
const EMAIL_UNIQUE_CONSTRAINTS = new Set(['users_email_key', 'users_email_lower_key']);

/** Another user holds the address (compared case-insensitively). */
export class EmailInUseError extends Error {
  constructor() {
    super('This email address is already in use');
    this.name = 'EmailInUseError';
  }
}

/**
 * Addresses are compared and stored in lower case: mail providers treat the local part
 * case-insensitively in practice, and two accounts must not differ only in the case of their address.
 */
export function normaliseEmail(email: string): string {
  return email.toLowerCase();
}

/** A unique violation (SQLSTATE 23505) of an email constraint, read by shape as `pg` and PGlite both report it. */
function isEmailUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && typeof constraint === 'string' && EMAIL_UNIQUE_CONSTRAINTS.has(constraint);
}

const COLUMNS = `id, username, email, display_name as "displayName", tier, is_active as "isActive",
  created_at as "createdAt", updated_at as "updatedAt"`;

export class UsersRepository {
  constructor(private readonly db: Database) {}

  /** One query for any number of ids; the result is in the order of `ids`, `null` for unknown ids. */
  async findByIds(ids: readonly number[]): Promise<(UserRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<UserRecord>('users.findByIds', `select ${COLUMNS} from users where id = any($1::int[])`, [ids]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Most recently updated active users first: the ones worth warming. */
  async findActiveIds(limit: number): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      'users.findActiveIds',
      'select id from users where is_active order by updated_at desc, id limit $1',
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /** Activates or deactivates the user; `null` when the user does not exist. */
  async setActive(id: number, active: boolean): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRecord>('users.setActive', `update users set is_active = $2, updated_at = now() where id = $1 returning ${COLUMNS}`, [id, active]);
    return rows[0] ?? null;
  }

  /**
   * Applies the given fields; `null` when the user does not exist. An email is stored normalised
   * (normaliseEmail). Throws EmailInUseError when another user holds the address in any case: the
   * unique index on lower(email) decides, so concurrent writers of one address cannot both win,
   * and the loser gets that error rather than a unique violation.
   */
  async update(id: number, patch: UserPatch): Promise<UserRecord | null> {
    try {
      const rows = await this.db.query<UserRecord>(
        'users.update',
        `update users set display_name = coalesce($2, display_name), email = coalesce($3, email), updated_at = now()
         where id = $1 returning ${COLUMNS}`,
        [id, patch.displayName ?? null, patch.email === undefined ? null : normaliseEmail(patch.email)],
      );
      return rows[0] ?? null;
    } catch (error) {
      if (isEmailUniqueViolation(error)) throw new EmailInUseError();
      throw error;
    }
  }
}
