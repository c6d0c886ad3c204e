import type { CacheInvalidator } from '../cache/cache-invalidator';
import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService } from '../cache/cache.service';
import { badInput, forbidden, notFound, unauthenticated } from '../errors';
import { actsFor, type Viewer } from '../sessions/viewer';
import type { UserPatch, UserRecord } from './user.model';
import { EmailInUseError, normaliseEmail, type UsersRepository } from './users.repository';

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

  /**
   * Allowed for the user themself and for admins; the email only for admins (see assertMayChangeEmail).
   * An address another account holds, in any case, is refused for an admin with BAD_USER_INPUT; a
   * race between two writers of one address is settled by the database, with the same answer.
   */
  async updateUser(viewer: Viewer, id: number, patch: UserPatch): Promise<UserRecord> {
    if (viewer.kind === 'anonymous') throw unauthenticated();
    if (!actsFor(viewer, id)) throw forbidden('Only the user or an admin may update this user');
    if (patch.displayName === undefined && patch.email === undefined) throw badInput('Nothing to update: give displayName or email');
    if (patch.email !== undefined && viewer.kind !== 'admin') await this.assertMayChangeEmail(id, patch.email);
    let updated: UserRecord | null;
    try {
      updated = await this.users.update(id, patch);
    } catch (error) {
      if (error instanceof EmailInUseError) throw badInput(error.message, { field: 'email' });
      throw error;
    }
    if (updated === null) throw notFound(`User ${id}`);
    await this.invalidator.invalidateUserCache(id);
    return updated;
  }

  /**
   * Admin only. A deactivated user's sessions are refused from the next request on, on every
   * instance: the session lookup refuses inactive users, and the user's cached lookups go with
   * the rest of the user's entries. Their sessions are kept, so reactivating restores them.
   */
  async setActive(viewer: Viewer, id: number, active: boolean): Promise<UserRecord> {
    if (viewer.kind === 'anonymous') throw unauthenticated();
    if (viewer.kind !== 'admin') throw forbidden('Only an admin may activate or deactivate a user');
    const updated = await this.users.setActive(id, active);
    if (updated === null) throw notFound(`User ${id}`);
    await this.invalidator.invalidateUserCache(id);
    return updated;
  }

  /**
   * A session may not change its account's email, whatever the address: only an admin may.
   *
   * Why: answering a session "already in use" tells any signed-up user whether an address has an
   * account here, and every other answer that depends on the address does too: a uniform refusal
   * of unusable addresses (the session learns "unusable" = taken), or accepting and quietly not
   * applying (the mutation answers with the user, whose email the session reads: unchanged means
   * taken). The honest way to let a user change an address is to prove they hold it first (a code
   * sent to the new address, the change applied when it comes back, and an address taken by
   * another account simply never gets a code); this gateway has no mail delivery, so it does not
   * offer the change to sessions at all, and says so in the same words for every address. Admins
   * read every user's email anyway, so their precise answer discloses nothing.
   * Repeating the session's own address (in any case) is not a change, and is allowed, so that a
   * form sending every field still works; it tells the session only its own address.
   */
  private async assertMayChangeEmail(id: number, email: string): Promise<void> {
    const [user] = await this.users.findByIds([id]);
    if (user === null || user === undefined) throw notFound(`User ${id}`);
    if (normaliseEmail(user.email) !== normaliseEmail(email)) {
      throw forbidden('An email address is changed by an administrator only: this API cannot verify that you hold the new address');
    }
  }
}
