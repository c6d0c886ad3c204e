import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

import { CacheControl } from '../graphql/response-cache/cache-policy';
import { USER_TIERS, type UserTier } from './user.model';

export const UserTierEnum = Object.fromEntries(USER_TIERS.map((t) => [t, t])) as { readonly [K in UserTier]: K };
registerEnumType(UserTierEnum, { name: 'UserTier' });

@CacheControl({ maxAge: 3600 })
@ObjectType({ description: 'A trader on the platform' })
export class User {
  @Field(() => Int)
  id!: number;

  @Field()
  username!: string;

  @Field()
  displayName!: string;

  @Field(() => UserTierEnum)
  tier!: UserTier;

  @Field()
  isActive!: boolean;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@CacheControl({ maxAge: 600 })
@ObjectType({ description: "Aggregates over one user's signals" })
export class UserStatistics {
  @Field(() => Int)
  userId!: number;

  @Field(() => Int)
  totalSignals!: number;

  @Field(() => Int)
  activeSignals!: number;

  @Field(() => Int)
  executedSignals!: number;

  @Field(() => Float, { nullable: true, description: 'null when the user has no signals' })
  averageConfidence!: number | null;

  @Field(() => Date, { nullable: true })
  lastSignalAt!: Date | null;
}
