import type { CdnResponseHeaders } from '../cdn/cdn-headers';
import type { StoredResponse } from '../graphql/response-cache/response-cache';
import { APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, JSON_GRAPHQL_CALLBACK, type ResultMediaType } from './response-media-type';

/*
 * How a stored response is answered, the same from Fastify's route and from the hit front
 * (hit-front.ts): its bytes with Cache-Control, Age, ETag, surrogate keys and the hit marker
 * (`x-cache`: HIT for a near copy, HIT-SHARED from the shared tier, MISS when stored just now), as
 * the media type the request's Accept negotiates (response-media-type.ts), or 304 to a GET that
 * already holds them.
 */

/** What every answer from `stored` as `mediaType` says: its CDN headers and ETag (Age, the hit marker and Vary are added per answer). */
export function storedHeaders(stored: StoredResponse, cdn: CdnResponseHeaders, mediaType: ResultMediaType): Record<string, string> {
  return { ...cdn.headers, etag: etagOf(stored, mediaType) };
}

/** Seconds since `stored` was stored, as the Age header says it. */
export function ageOf(stored: StoredResponse, nowMs: number): string {
  return String(Math.max(0, Math.floor((nowMs - stored.storedAtMs) / 1000)));
}

/**
 * The ETag of `stored` sent as `mediaType`: the stored tag as JSON, a tag of its own under any
 * other media type. The bytes are the same, but a validator names one representation (RFC 9110
 * §8.8.3): with one tag for both, a cache holding the JSON copy that revalidates for a client
 * negotiated to application/graphql-response+json would get 304 and serve it the JSON copy.
 */
export function etagOf(stored: StoredResponse, mediaType: ResultMediaType): string {
  switch (mediaType) {
    case APPLICATION_JSON:
      return stored.etag;
    case GRAPHQL_RESPONSE_JSON:
      return `${stored.etag.slice(0, -1)}+gr"`;
    case JSON_GRAPHQL_CALLBACK:
      return `${stored.etag.slice(0, -1)}+cb"`;
  }
}

/**
 * A GET whose If-None-Match names `etag` gets 304 and no body: RFC 9110 §13.1.2, a list of tags
 * compared weakly (a proxy that compresses makes `"x"` into `W/"x"`), or `*`, which any stored
 * answer matches. A malformed member matches nothing.
 */
export function notModified(method: string | undefined, ifNoneMatch: string | undefined, etag: string): boolean {
  if (method !== 'GET' || ifNoneMatch === undefined) return false;
  return ifNoneMatch === etag || listNames(ifNoneMatch, etag);
}

/** Whether a comma-separated list of entity tags (or `*`) names `etag`, a strong tag (`"…"`), by weak comparison. */
function listNames(list: string, etag: string): boolean {
  let at = 0;
  while (at < list.length) {
    const char = list[at];
    if (char === ' ' || char === '\t' || char === ',') {
      at += 1;
      continue;
    }
    if (char === '*') return true;
    if (list.startsWith('W/', at)) at += 2;
    if (list[at] !== '"') {
      // Not a tag: skip to the next member.
      const comma = list.indexOf(',', at);
      if (comma === -1) return false;
      at = comma + 1;
      continue;
    }
    // An opaque tag holds no `"` (RFC 9110 §8.8.3), but may hold commas.
    const close = list.indexOf('"', at + 1);
    if (close === -1) return false;
    if (close + 1 - at === etag.length && list.startsWith(etag, at)) return true;
    at = close + 1;
  }
  return false;
}

/** What a request that failed unexpectedly gets (Fastify's error handler and the hit front answer alike). */
export const INTERNAL_ERROR_BODY = JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
