import { Field, Int, ObjectType } from 'type-graphql';

import { PageInfo } from '../graphql/connection/page-info.type';
import { CacheControl } from '../graphql/response-cache/cache-policy';
import type { SignalList, SignalPage } from './signal-list';
import type { SignalRecord } from './signal.model';
import { Signal } from './signal.type';

@CacheControl({ maxAge: 1800 })
@ObjectType({ description: 'A signal in a paged list, with its cursor' })
export class SignalEdge {
  @Field({ description: 'Opaque; valid for this list only (the same filters)' })
  cursor!: string;

  @Field(() => Signal)
  node!: SignalRecord;
}

@CacheControl({ maxAge: 1800 })
@ObjectType({ description: 'A page of signals, newest first (Relay Cursor Connections)' })
export class SignalConnection {
  @Field(() => [SignalEdge])
  edges!: SignalPage['edges'];

  @Field(() => PageInfo)
  pageInfo!: SignalPage['pageInfo'];

  @Field(() => Int, { description: 'How many signals the whole list holds' })
  totalCount!: number;
}

/** What the connection's resolvers pass down: the page, and its list for totalCount (counted only when asked for). */
export type SignalConnectionRoot = SignalPage & { readonly list: SignalList };
