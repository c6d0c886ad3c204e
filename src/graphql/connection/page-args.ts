import { IsOptional } from 'class-validator';
import { ArgsType, Field, Int } from 'type-graphql';

import { badInput } from '../../errors';
import { InRange } from '../validators';
import { type KeysetPosition, type ListFingerprint, readCursor } from './keyset-cursor';

/** The largest page a connection serves; the query-cost limits count `first`/`last` as the page size. */
export const MAX_PAGE_SIZE = 100;

/** Relay's paging arguments, shared by every connection field. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `The first ${MAX_PAGE_SIZE} at most, after the cursor \`after\`; not with \`last\`` })
  @IsOptional()
  @InRange(1, MAX_PAGE_SIZE)
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'An endCursor (or any edge cursor) of this list' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: `The last ${MAX_PAGE_SIZE} at most, before the cursor \`before\`; not with \`first\`` })
  @IsOptional()
  @InRange(1, MAX_PAGE_SIZE)
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'A startCursor (or any edge cursor) of this list' })
  before?: string | null;
}

/**
 * One page of a keyset-ordered list, as the repository runs it: `forward` reads the `size` items
 * that follow `from` (newest first), `backward` the `size` items that precede it.
 */
export interface PageRequest {
  readonly direction: 'forward' | 'backward';
  readonly size: number;
  /** Exclusive bound; none for the first (or, backward, the last) page. */
  readonly from?: KeysetPosition;
}

/**
 * Checks the paging arguments and turns them into a PageRequest for the list `list`, or throws
 * BAD_USER_INPUT before anything runs. One direction per request (as Relay clients page): `first`
 * with `after`, or `last` with `before`. A cursor must be one this API issued for this list. An
 * argument given as null is absent, as GraphQL clients mean it (`after: null` on the first page).
 */
export function pageRequestOf(args: PageArgs, list: ListFingerprint): PageRequest {
  const [first, after, last, before] = [args.first ?? undefined, args.after ?? undefined, args.last ?? undefined, args.before ?? undefined];
  if (first !== undefined && last !== undefined) throw badInput('Give first or last, not both', { field: 'last' });
  if (first === undefined && last === undefined) throw badInput(`Give first (or last): a page size from 1 to ${MAX_PAGE_SIZE}`, { field: 'first' });
  if (first !== undefined) {
    if (before !== undefined) throw badInput('before pages backward: use it with last, not first', { field: 'before' });
    return { direction: 'forward', size: first, ...(after === undefined ? {} : { from: readCursor(after, list, 'after') }) };
  }
  if (after !== undefined) throw badInput('after pages forward: use it with first, not last', { field: 'after' });
  return { direction: 'backward', size: last!, ...(before === undefined ? {} : { from: readCursor(before, list, 'before') }) };
}
