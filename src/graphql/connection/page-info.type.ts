import { Field, ObjectType } from 'type-graphql';

import { CacheControl } from '../response-cache/cache-policy';

/** Relay's PageInfo. Cacheable like the list that holds it: its hint defers to the list's. */
@CacheControl({ maxAge: 86400 })
@ObjectType({ description: 'Where a page sits in its list (Relay Cursor Connections)' })
export class PageInfo {
  @Field({ description: 'Whether items follow the last edge (newest first: older ones)' })
  hasNextPage!: boolean;

  @Field({ description: 'Whether items precede the first edge (newest first: newer ones)' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the first edge; null on an empty page' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'The cursor of the last edge; null on an empty page' })
  endCursor!: string | null;
}
