import type { CdnResponseHeaders } from '../cdn/cdn-headers';
import type { StoredResponse } from '../graphql/response-cache/response-cache';

/*
 * How a stored response is answered, the same from Fastify's route and from the hit front
 * (hit-front.ts): its bytes with Cache-Control, Age, ETag, surrogate keys and the hit marker
 * (`x-cache`: HIT for a near copy, HIT-SHARED from the shared tier, MISS when stored just now), or
 * 304 to a GET that already holds them.
 */

/** What every answer from `stored` says: its CDN headers and ETag (Age, the hit marker and Vary are added per answer). */
export function storedHeaders(stored: StoredResponse, cdn: CdnResponseHeaders): Record<string, string> {
  return { ...cdn.headers, etag: stored.etag };
}

/** Seconds since `stored` was stored, as the Age header says it. */
export function ageOf(stored: StoredResponse, nowMs: number): string {
  return String(Math.max(0, Math.floor((nowMs - stored.storedAtMs) / 1000)));
}

/** A GET whose If-None-Match is the stored ETag gets 304 and no body. */
export function notModified(method: string | undefined, ifNoneMatch: string | undefined, stored: StoredResponse): boolean {
  return method === 'GET' && ifNoneMatch === stored.etag;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** What a request that failed unexpectedly gets (Fastify's error handler and the hit front answer alike). */
export const INTERNAL_ERROR_BODY = JSON.stringify({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
