/**
 * A typed GraphQL client small enough to copy into a front end. The documents and their result
 * and variable types are generated from schema/operations/*.graphql (`npm run codegen`), so a
 * renamed field or a wrong variable is a compile error, not a surprise in production. It needs
 * only `fetch` and `graphql`'s `print`; swap in your own generated folder for `../src/generated`.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

import { LatestSignalsDocument, type LatestSignalsQuery, UserWithSignalsDocument, type UserWithSignalsQuery } from '../src/generated/graphql';

export interface RequestOptions {
  /** The gateway's GraphQL URL; default http://localhost:4000/graphql. */
  readonly endpoint?: string;
  /** A session token or the admin token, sent as `Authorization: Bearer …`. */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

export interface GraphqlError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  /** `BAD_USER_INPUT`, `NOT_FOUND`, `UNAUTHENTICATED`, `FORBIDDEN`, `UPSTREAM_UNAVAILABLE`, `INTERNAL_SERVER_ERROR`. */
  readonly extensions?: { readonly code?: string };
}

/** The gateway answered with errors (or no data): `errors` carry the codes to branch on. */
export class GraphqlRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly GraphqlError[],
  ) {
    super(errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; ') || `HTTP ${status}`);
    this.name = 'GraphqlRequestError';
  }
}

const DEFAULT_ENDPOINT = 'http://localhost:4000/graphql';
const printed = new WeakMap<object, string>();

/** Runs one typed operation; resolves to its `data`, or rejects with a `GraphqlRequestError`. */
export async function request<TResult, TVariables extends Record<string, unknown>>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  options: RequestOptions = {},
): Promise<TResult> {
  let query = printed.get(document);
  if (query === undefined) printed.set(document, (query = print(document)));
  const response = await fetch(options.endpoint ?? DEFAULT_ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
    body: JSON.stringify({ query, variables }),
    signal: options.signal ?? null,
  });
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphqlError[] };
  if ((body.errors !== undefined && body.errors.length > 0) || body.data === undefined || body.data === null) {
    throw new GraphqlRequestError(response.status, body.errors ?? []);
  }
  return body.data;
}

/** A profile page: the user, their statistics and newest signals (null for an unknown id). */
export async function loadTraderProfile(userId: number, options?: RequestOptions): Promise<UserWithSignalsQuery['user']> {
  const { user } = await request(UserWithSignalsDocument, { id: userId, signalLimit: 5 }, options);
  return user;
}

/** A dashboard feed: the newest signals per instrument, with authors and live quotes, as display rows. */
export async function loadSignalFeed(symbols: string[], options?: RequestOptions): Promise<string[]> {
  const { latestSignals }: LatestSignalsQuery = await request(LatestSignalsDocument, { symbols, perSymbol: 3 }, options);
  return latestSignals.map((signal) => {
    const quote = signal.currentPrice === null || signal.currentPrice === undefined ? 'no quote' : `${signal.currentPrice.bid}/${signal.currentPrice.ask}`;
    return `${signal.symbol} ${signal.direction} @ ${signal.entryPrice} by ${signal.user?.username ?? 'unknown'} (now ${quote})`;
  });
}
