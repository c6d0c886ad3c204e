import { Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';

import { CacheTags, idsOf, memberOf, type ShownTags } from '../cache/cache-tags';
import { nullsAsAbsent } from '../graphql/nulls-as-absent';
import { CacheControl } from '../graphql/response-cache/cache-policy';
import type { RequestContext } from '../request-context';
import { actsFor } from '../sessions/viewer';
import { SignalPageArgs, signalListOf } from '../signals/signal.args';
import { pageOf } from '../signals/signal-connection.resolver';
import { SignalConnection, type SignalConnectionRoot } from '../signals/signal-connection.type';
import { signalListTags } from '../signals/signal-list';
import type { SignalRecord } from '../signals/signal.model';
import { Signal } from '../signals/signal.type';
import type { SignalsService } from '../signals/signals.service';
import { SetUserActiveArgs, UpdateUserArgs, UserArgs, UsersArgs, UserSignalsArgs } from './user.args';
import type { UserRecord } from './user.model';
import { User, UserStatistics } from './user.type';
import type { UsersService } from './users.service';

/** What the users' part of the schema shows, for the response cache (see ShownTags). */
export const USER_TAGS: ShownTags = {
  fields: {
    // By the ids asked for, so that a cached "no such user" goes when the user appears.
    'Query.user': (args) => idsOf(args.id).map(CacheTags.user),
    'Query.users': (args) => idsOf(args.ids).map(CacheTags.user),
    'User.signals': (_args, user) => idsOf(memberOf(user, 'id')).map(CacheTags.userSignals),
    'User.statistics': (_args, user) => idsOf(memberOf(user, 'id')).map(CacheTags.userSignals),
    'User.signalsConnection': (args, user) =>
      idsOf(memberOf(user, 'id')).flatMap((authorId) => signalListTags(signalListOf({ ...(args as SignalPageArgs), authorId }))),
  },
  types: { User: (user) => idsOf(user.id).map(CacheTags.user) },
};

@Resolver(() => User)
export class UserResolver {
  constructor(
    private readonly usersService: UsersService,
    private readonly signalsService: SignalsService,
  ) {}

  @Query(() => User, { nullable: true, description: 'null when there is no such user' })
  user(@Args() { id }: UserArgs, @Ctx() { loaders }: RequestContext): Promise<UserRecord | null> {
    return loaders.user.load(id);
  }

  @Query(() => [User], { nullable: 'items', description: 'In the order of ids; null for unknown ids' })
  users(@Args() { ids }: UsersArgs, @Ctx() { loaders }: RequestContext): Promise<(UserRecord | null)[]> {
    return Promise.all(ids.map((id) => loaders.user.load(id)));
  }

  @CacheControl({ maxAge: 300, scope: 'PRIVATE' })
  @Query(() => User, { nullable: true, description: 'The user of the session token; null without one' })
  me(@Ctx() { viewer, loaders }: RequestContext): Promise<UserRecord | null> | null {
    return viewer.kind === 'user' ? loaders.user.load(viewer.userId) : null;
  }

  @Mutation(() => User, { description: 'Allowed for the user and for admins' })
  async updateUser(@Args() { id, input }: UpdateUserArgs, @Ctx() { viewer, loaders }: RequestContext): Promise<UserRecord> {
    const updated = await this.usersService.updateUser(viewer, id, nullsAsAbsent(input));
    loaders.user.clear(id).prime(id, updated);
    return updated;
  }

  @Mutation(() => User, { description: 'Admin only. A deactivated user\'s session tokens are UNAUTHENTICATED from the next request on, on every instance; reactivating restores them.' })
  async setUserActive(@Args() { id, active }: SetUserActiveArgs, @Ctx() { viewer, loaders }: RequestContext): Promise<UserRecord> {
    const updated = await this.usersService.setActive(viewer, id, active);
    loaders.user.clear(id).prime(id, updated);
    return updated;
  }

  @CacheControl({ scope: 'PRIVATE' })
  @FieldResolver(() => String, { nullable: true, description: 'Private: visible to the user and to admins, null for anyone else' })
  email(@Root() user: UserRecord, @Ctx() { viewer }: RequestContext): string | null {
    return actsFor(viewer, user.id) ? user.email : null;
  }

  // Kept, not deprecated: a preview of a few newest signals, batched across users into one query
  // (a list of authors with their latest signals); signalsConnection pages one user's list.
  @FieldResolver(() => [Signal], { description: "The user's newest signals; signalsConnection pages through all of them" })
  signals(@Root() user: UserRecord, @Args() { limit }: UserSignalsArgs, @Ctx() { loaders }: RequestContext): Promise<SignalRecord[]> {
    return loaders.signalsOfUser(limit).load(user.id);
  }

  @FieldResolver(() => SignalConnection, { description: "The user's signals newest first, a page at a time, filtered like Query.signalsConnection" })
  signalsConnection(@Root() user: UserRecord, @Args() args: SignalPageArgs): Promise<SignalConnectionRoot> {
    return pageOf(this.signalsService, args, user.id);
  }

  @FieldResolver(() => UserStatistics)
  async statistics(@Root() user: UserRecord, @Ctx() { loaders }: RequestContext): Promise<UserStatistics> {
    return { userId: user.id, ...(await loaders.userStatistics.load(user.id)) };
  }
}
