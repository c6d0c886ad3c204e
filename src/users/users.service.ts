import { badInput, forbidden, notFound, unauthenticated } from '../errors';
import { actsFor, type Viewer } from '../sessions/viewer';
import type { UserPatch, UserRecord } from './user.model';
import type { UsersRepository } from './users.repository';

/** User reads are batch-first so that a loader (and later the cache) can wrap them unchanged. */
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  getUsers(ids: readonly number[]): Promise<(UserRecord | null)[]> {
    return this.users.findByIds(ids);
  }

  /** Allowed for the user themself and for admins. */
  async updateUser(viewer: Viewer, id: number, patch: UserPatch): Promise<UserRecord> {
    if (viewer.kind === 'anonymous') throw unauthenticated();
    if (!actsFor(viewer, id)) throw forbidden('Only the user or an admin may update this user');
    if (patch.displayName === undefined && patch.email === undefined) throw badInput('Nothing to update: give displayName or email');
    if (patch.email !== undefined && (await this.users.emailTaken(patch.email, id))) {
      throw badInput('This email address is already in use', { field: 'email' });
    }
    const updated = await this.users.update(id, patch);
    if (updated === null) throw notFound(`User ${id}`);
    return updated;
  }
}
