import { createHash } from 'node:crypto';

import type { FastifyRequest } from 'fastify';

import type { OperationRequest } from '../graphql/response-cache/response-cache';

/*
 * What a GraphQL-over-HTTP request asks for, and whether Apollo would accept it as it stands.
 * The response-cache fast path answers only requests that pass every check here; anything else
 * goes to Apollo, which answers it (or refuses it with 400, 405, 406 or 415) itself.
 */

/**
 * The operation of a single (not batched) request that Apollo would accept as it stands, or
 * `undefined` when Apollo should decide what it is: the checks of Apollo's runHttpQuery and of its
 * persisted-query step, so that no cached answer goes to a request Apollo refuses (with 400, 405
 * or 415). An ordinary request costs no parsing beyond its GET `variables`.
 */
export function readOperation(request: FastifyRequest): OperationRequest | undefined {
  let source: Record<string, unknown>;
  let variables: unknown;
  let extensions: unknown;
  if (request.method === 'POST') {
    if (!isRecord(request.body)) return undefined;
    source = request.body;
    ({ variables, extensions } = source);
  } else if (request.method === 'GET') {
    // Apollo answers 415 to a GET with any other content type.
    const contentType = request.headers['content-type'];
    if (contentType !== undefined && mimeEssence(contentType) !== 'application/json') return undefined;
    source = request.query as Record<string, unknown>;
    variables = jsonParameter(source.variables);
    extensions = jsonParameter(source.extensions);
    if (variables === INVALID || extensions === INVALID) return undefined;
  } else {
    // HEAD (Fastify's twin of the GET route): Apollo answers 405.
    return undefined;
  }
  // A GET parameter given twice arrives as an array, which these refuse, as Apollo does.
  const { query, operationName } = source;
  if (typeof query !== 'string' || query === '') return undefined;
  if (operationName !== undefined && operationName !== null && (typeof operationName !== 'string' || operationName === '')) return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  if (extensions !== undefined && extensions !== null && (!isRecord(extensions) || !persistedQueryHolds(extensions.persistedQuery, query))) return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

const INVALID = Symbol('invalid');

/** A GET parameter holding JSON: absent, the object it encodes, or INVALID (given twice, not JSON, or not an object: Apollo answers 400). */
function jsonParameter(value: unknown): Record<string, unknown> | undefined | typeof INVALID {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return INVALID;
  try {
    const parsed = JSON.parse(value) as unknown;
    return isRecord(parsed) ? parsed : INVALID;
  } catch {
    return INVALID;
  }
}

/**
 * Apollo's automatic persisted queries, when the request names one along with its text: the
 * version must be 1 and the hash the SHA-256 of the text, or Apollo answers 400 (a hash hijacked
 * to another text). Hashed only when the extension is there.
 */
function persistedQueryHolds(persistedQuery: unknown, query: string): boolean {
  // Apollo ignores a falsy one.
  if (!persistedQuery) return true;
  const { version, sha256Hash } = persistedQuery as { version?: unknown; sha256Hash?: unknown };
  return version === 1 && typeof sha256Hash === 'string' && sha256Hash === createHash('sha256').update(query).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Type and subtype of a Content-Type, lower case; Apollo's parser never sees a CORS-safelisted type where this does not. */
function mimeEssence(contentType: string): string {
  const end = contentType.indexOf(';');
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase();
}

const NON_PREFLIGHTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Apollo's CSRF rule (preventCsrf), applied before a cached answer is given: a request counts as
 * preflighted when it sets a content type a simple form cannot, or a non-empty value for one of
 * Apollo's opt-in headers (an empty one counts as absent).
 */
export function isPreflighted(request: FastifyRequest): boolean {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !NON_PREFLIGHTED_CONTENT_TYPES.includes(mimeEssence(contentType))) return true;
  return hasValue(request.headers['apollo-require-preflight']) || hasValue(request.headers['x-apollo-operation-name']);
}

function hasValue(header: string | string[] | undefined): boolean {
  return header !== undefined && (Array.isArray(header) ? header.join(', ') : header).length > 0;
}

/**
 * Whether the stored JSON may answer: Apollo answers 406 to an Accept that takes no JSON. Loose on
 * purpose: an Accept this does not recognise at once (any `q=0`, say) goes to Apollo, which negotiates.
 */
export function acceptsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return accept === undefined || (JSON_ACCEPTED.test(accept) && !REFUSES_SOMETHING.test(accept));
}

const JSON_ACCEPTED = /(^|,)\s*(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json)\s*(;|,|$)/i;
const REFUSES_SOMETHING = /;\s*q\s*=\s*0(\.0*)?\s*(,|;|$)/i;

/**
 * Deeper than this, variables are refused with 400 before anything reads them: far deeper than any
 * input type of the schema, far shallower than a stack overflow.
 */
const MAX_VARIABLES_DEPTH = 32;

export const VARIABLES_TOO_DEEP = {
  errors: [{ message: `Variables are nested too deeply: at most ${MAX_VARIABLES_DEPTH} levels of objects and lists`, extensions: { code: 'BAD_USER_INPUT' } }],
};

/** POST variables as parsed, GET variables as sent (a scan of the text, no parse); anything else is Apollo's to refuse. */
export function variablesTooDeep(request: FastifyRequest): boolean {
  if (request.method === 'POST') return isRecord(request.body) && nestedDeeperThan(request.body.variables, MAX_VARIABLES_DEPTH);
  const variables = (request.query as Record<string, unknown> | undefined)?.variables;
  return typeof variables === 'string' && jsonNestedDeeperThan(variables, MAX_VARIABLES_DEPTH);
}

/** Recursion bounded by `levels`, whatever the value's depth. */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  for (const member of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) {
    if (nestedDeeperThan(member, levels - 1)) return true;
  }
  return false;
}

/** The same bound over JSON text: brackets and braces outside strings. */
function jsonNestedDeeperThan(text: string, levels: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > levels) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}
