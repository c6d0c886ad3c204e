import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { type GraphQLResolveInfo, responsePathAsArray } from 'graphql';

import type { ResponsePolicy } from './response-cache/cache-policy';

/** Why a value is older than its freshness allows, and by how much. */
export interface StaleMark {
  /** Whole seconds since the value was fetched from its source. */
  readonly ageSeconds: number;
  /** A short code from a fixed set chosen by the service (`timeout`, `circuit_open`, …). */
  readonly reason: string;
}

/** One field of the response that shows a stale value: the shape of `extensions.stale[]`. */
export interface StaleField extends StaleMark {
  readonly path: readonly (string | number)[];
}

/** Where a service reports that a value it returns is a stale copy. */
export interface StaleSink {
  mark(value: object, mark: StaleMark): void;
}

/**
 * Per request: which values a service served from a last-known copy, and the response paths that
 * show them. Services mark values (they do not know paths); resolvers note what they return
 * (they do not know freshness). Marks are by object identity, so a value shared by many fields
 * through a DataLoader is reported at each of them.
 */
export class StaleReads implements StaleSink {
  private readonly marks = new WeakMap<object, StaleMark>();
  private readonly shown: StaleField[] = [];

  mark(value: object, mark: StaleMark): void {
    this.marks.set(value, mark);
  }

  /** Records `value` at the field of `info`, or at one item of it (`index`), when it was marked stale. */
  note(info: Pick<GraphQLResolveInfo, 'path'>, value: unknown, index?: number): void {
    if (value === null || typeof value !== 'object') return;
    const mark = this.marks.get(value);
    if (mark === undefined) return;
    const path = responsePathAsArray(info.path);
    this.shown.push({ path: index === undefined ? path : [...path, index], ageSeconds: mark.ageSeconds, reason: mark.reason });
  }

  get fields(): readonly StaleField[] {
    return this.shown;
  }
}

export interface StaleContext extends BaseContext {
  readonly staleReads?: StaleReads;
  readonly responsePolicy?: ResponsePolicy;
}

/**
 * Tells the client which fields are stale (`extensions.stale`), and keeps such a response out of
 * the response cache: a stale answer stored there would outlive the outage that caused it.
 */
export function staleReadsPlugin<Context extends StaleContext>(): ApolloServerPlugin<Context> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response, contextValue }) {
          const fields = contextValue.staleReads?.fields ?? [];
          if (fields.length === 0) return Promise.resolve();
          contextValue.responsePolicy?.refuse('stale data');
          if (response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, stale: fields };
          }
          return Promise.resolve();
        },
      });
    },
  };
}
