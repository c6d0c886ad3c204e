import type { CacheInvalidator } from '../cache/cache-invalidator';
import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService } from '../cache/cache.service';
import { badInput, forbidden, notFound, unauthenticated } from '../errors';
import { actsFor, type Viewer } from '../sessions/viewer';
import type { UserPatch, UserRecord } from './user.model';
import type { UsersRepository } from './users.repository';

/** User reads go through the cache (profiles: long TTL); a change invalidates that user. */
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly cache: CacheService,
    private readonly cacheKeys: CacheKeys,
    private readonly invalidator: CacheInvalidator,
  ) {}

  /** One multi-get; only the misses are loaded, in one query. */
  getUsers(ids: readonly number[]): Promise<(UserRecord | null)[]> {
    return this.cache.getManyOrLoad(ids, (id) => this.cacheKeys.user(id), (missing) => this.users.findByIds(missing), this.cache.ttl.long);
  }

  /** The most recently active users: the ones worth warming. */
  activeUserIds(limit: number): Promise<number[]> {
    return this.users.findActiveIds(limit);
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
    await this.invalidator.invalidateUserCache(id);
    return updated;
  }
}
