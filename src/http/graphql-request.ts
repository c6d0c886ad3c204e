import type { IncomingMessage } from 'node:http';

import type { FastifyRequest } from 'fastify';

import { resultMediaType, type ResultMediaType } from './response-media-type';

/*
 * What a GraphQL-over-HTTP request asks for, and whether Apollo would accept it as it stands.
 * The response-cache fast path answers only requests that pass every check here; anything else
 * goes to Apollo, which answers it (or refuses it with 400, 405, 406 or 415) itself.
 */

/**
 * One GraphQL-over-HTTP request as sent: its text or the ids of a persisted document (resolved
 * by PersistedDocuments), and the rest of what it asks.
 */
export interface IncomingOperation {
  readonly query: string | undefined;
  /** GraphQL-over-HTTP's `documentId`, as sent. */
  readonly documentId: unknown;
  /** Apollo's `extensions.persistedQuery`, as sent (a falsy one counts as absent, as Apollo has it). */
  readonly persistedQuery: unknown;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>> | undefined;
  /** Other extensions, passed on to execution. */
  readonly extensions: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The operation of a single (not batched) request whose shape Apollo would accept, or `undefined`
 * when Apollo should decide what it is: the checks of Apollo's runHttpQuery, so that no cached
 * answer goes to a request Apollo refuses (with 400, 405 or 415). An ordinary request costs no
 * parsing beyond its GET `variables` and `extensions`.
 */
export function readOperation(request: FastifyRequest): IncomingOperation | undefined {
  let source: Record<string, unknown>;
  let variables: unknown;
  let extensions: unknown;
  if (request.method === 'POST') {
    if (!isRecord(request.body)) return undefined;
    source = request.body;
    ({ variables, extensions } = source);
  } else if (request.method === 'GET') {
    if (!getContentTypeAccepted(request)) return undefined;
    source = request.query as Record<string, unknown>;
    variables = jsonParameter(source.variables);
    extensions = jsonParameter(source.extensions);
    if (variables === INVALID || extensions === INVALID) return undefined;
  } else {
    // HEAD (Fastify's twin of the GET route): Apollo answers 405.
    return undefined;
  }
  // A GET parameter given twice arrives as an array, which these refuse, as Apollo does.
  const { query, operationName, documentId } = source;
  if (query !== undefined && query !== null && (typeof query !== 'string' || query === '')) return undefined;
  if (operationName !== undefined && operationName !== null && (typeof operationName !== 'string' || operationName === '')) return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  if (extensions !== undefined && extensions !== null && !isRecord(extensions)) return undefined;
  const { persistedQuery, ...otherExtensions } = extensions ?? {};
  const text = typeof query === 'string' ? query : undefined;
  // Neither text nor id: Apollo's 400 says what is missing.
  if (text === undefined && (documentId === undefined || documentId === null) && !persistedQuery) return undefined;
  return {
    query: text,
    documentId: documentId ?? undefined,
    persistedQuery: persistedQuery || undefined,
    operationName: operationName ?? undefined,
    variables: variables ?? undefined,
    extensions: Object.keys(otherExtensions).length === 0 ? undefined : otherExtensions,
  };
}

/** What the checks of a request's headers read: a Fastify request, or node's own before Fastify sees it (see hit-front.ts). */
type WithHeaders = Pick<IncomingMessage, 'headers'>;

/** Apollo answers 415 to a GET with a content type other than JSON. */
export function getContentTypeAccepted(request: WithHeaders): boolean {
  const contentType = request.headers['content-type'];
  return contentType === undefined || mimeEssence(contentType) === 'application/json';
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Whether a POST's body is read as JSON (Fastify's parser goes by the type and subtype alone). */
export function isJsonContentType(request: WithHeaders): boolean {
  const contentType = request.headers['content-type'];
  return contentType !== undefined && mimeEssence(contentType) === 'application/json';
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
export function isPreflighted(request: WithHeaders): boolean {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !NON_PREFLIGHTED_CONTENT_TYPES.includes(mimeEssence(contentType))) return true;
  return hasValue(request.headers['apollo-require-preflight']) || hasValue(request.headers['x-apollo-operation-name']);
}

function hasValue(header: string | string[] | undefined): boolean {
  return header !== undefined && (Array.isArray(header) ? header.join(', ') : header).length > 0;
}

/**
 * The media type a cached answer is sent as: the one Apollo would choose for this Accept (see
 * response-media-type.ts), or `undefined` when it accepts none, for Apollo to answer 406.
 */
export function answerMediaType(request: WithHeaders): ResultMediaType | undefined {
  return resultMediaType(request.headers.accept);
}

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
