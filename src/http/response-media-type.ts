import Negotiator from 'negotiator';

/*
 * The media type of a single GraphQL result, chosen from the request's Accept exactly as Apollo
 * Server chooses it (chooseContentTypeForSingleResultResponse in @apollo/server 5: the same
 * library, the same candidates in the same order), so that an answer from the response cache
 * says what the same request executed by Apollo would say.
 */

export const APPLICATION_JSON = 'application/json; charset=utf-8';
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json; charset=utf-8';
/** What Apollo answers to a client that asks for subscription callbacks; the body is the same JSON. */
export const JSON_GRAPHQL_CALLBACK = 'application/json; callbackSpec=1.0; charset=utf-8';

/** Apollo's candidates, in its order: the order breaks ties of quality and specificity. */
const CANDIDATES = [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, JSON_GRAPHQL_CALLBACK] as const;
export type ResultMediaType = (typeof CANDIDATES)[number];

/** Accept values negotiated already, at most this many of at most this length: clients send a handful; others are negotiated each time. */
const REMEMBERED_ACCEPTS = 256;
const REMEMBERED_ACCEPT_LENGTH = 256;
const NOT_ACCEPTABLE = null;
const known = new Map<string, ResultMediaType | typeof NOT_ACCEPTABLE>();

/**
 * The Content-Type of a single result for this Accept, or `undefined` when it accepts none of
 * them (Apollo answers 406). No Accept, or an empty one, is JSON, as Apollo has it; other values
 * are negotiated once (a few microseconds) and remembered.
 */
export function resultMediaType(accept: string | undefined): ResultMediaType | undefined {
  if (accept === undefined || accept === '') return APPLICATION_JSON;
  let chosen = known.get(accept);
  if (chosen === undefined) {
    chosen = (new Negotiator({ headers: { accept } }).mediaType(CANDIDATES) as ResultMediaType | undefined) ?? NOT_ACCEPTABLE;
    if (known.size < REMEMBERED_ACCEPTS && accept.length <= REMEMBERED_ACCEPT_LENGTH) known.set(accept, chosen);
  }
  return chosen ?? undefined;
}

/** Whether a Content-Type Apollo set is one of those above (a single result, which the request's own negotiation may replace). */
export function isResultMediaType(contentType: string): contentType is ResultMediaType {
  return (CANDIDATES as readonly string[]).includes(contentType);
}
