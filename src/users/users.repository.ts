import type { Database } from '../db/database';
import type { UserPatch, UserRecord } from './user.model';

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

  /** Applies the given fields; `null` when the user does not exist. */
  async update(id: number, patch: UserPatch): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRecord>(
      'users.update',
      `update users set display_name = coalesce($2, display_name), email = coalesce($3, email), updated_at = now()
       where id = $1 returning ${COLUMNS}`,
      [id, patch.displayName ?? null, patch.email ?? null],
    );
    return rows[0] ?? null;
  }

  async emailTaken(email: string, exceptUserId: number): Promise<boolean> {
    const rows = await this.db.query<{ taken: boolean }>(
      'users.emailTaken',
      'select exists (select 1 from users where lower(email) = lower($1) and id <> $2) as taken',
      [email, exceptUserId],
    );
    return rows[0]?.taken ?? false;
  }
}
