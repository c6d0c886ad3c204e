import { createHash } from 'node:crypto';

import { type DocumentNode, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode, OperationTypeNode, parse, validate, type ValidationRule } from 'graphql';
import { LRUCache } from 'lru-cache';

import type { PersistedDocuments } from '../graphql/persisted/persisted-documents';
import { textKey } from '../graphql/query-costs';
import { costRefusal, type QueryLimits } from '../graphql/query-limits';
import type { RateLimitedAnswer, RateLimitGate } from '../http/rate-limit-gate';
import type { LiveRequest } from './live-hub';

/** A subscription as a client sends it: graphql-ws's `subscribe` payload, or an SSE request's body or query string. */
export interface SubscriptionParams {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
  readonly extensions?: unknown;
  readonly documentId?: unknown;
}

export interface LiveRequestsOptions {
  readonly schema: GraphQLSchema;
  readonly persisted: PersistedDocuments;
  readonly validationRules: readonly ValidationRule[];
  /** The query limits, for the cost of sizes given in variables, which validation cannot see (costRefusal). */
  readonly limits: QueryLimits;
  readonly maxTokens: number;
  /** Budgets per viewer (absent: no rate limits): a subscription spends its query's cost when it starts. */
  readonly rateLimits?: Pick<RateLimitGate, 'chargeSubscription' | 'refusal' | 'refusalErrors'> | undefined;
}

export type Prepared<Viewer> =
  | { readonly ok: true; readonly request: LiveRequest<Viewer> }
  /** `rateLimited`: the refusal as HTTP (429 and its headers), for a transport that answers over HTTP. */
  | { readonly ok: false; readonly errors: GraphQLFormattedError[]; readonly rateLimited?: RateLimitedAnswer };

/** Checked documents by text: ten thousand clients subscribing with the same text parse and validate it once. */
const CHECKED_DOCUMENTS = 500;

/**
 * Turns what a client sent into a checked subscription, the way the HTTP route does for queries:
 * persisted documents resolved (the same modes), the text parsed within the token bound and
 * validated with the same rules, and the operation required to be a subscription (queries and
 * mutations go over HTTP, where they are cached and counted).
 */
export class LiveRequests<Viewer> {
  private readonly checked = new LRUCache<string, { document: DocumentNode; operation: OperationDefinitionNode; key: string } | { errors: GraphQLFormattedError[] }>({ max: CHECKED_DOCUMENTS });

  constructor(private readonly options: LiveRequestsOptions) {}

  async prepare(params: SubscriptionParams, who: { viewer: Viewer; identity: string; trusted: boolean; clientAddress: string }, lastEventId: string | undefined): Promise<Prepared<Viewer>> {
    const { query, variables, operationName, extensions, documentId } = params;
    if (query !== undefined && typeof query !== 'string') return refused('BAD_REQUEST', 'query must be a string');
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return refused('BAD_REQUEST', 'variables must be an object');
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return refused('BAD_REQUEST', 'operationName must be a string');
    if (extensions !== undefined && extensions !== null && (typeof extensions !== 'object' || Array.isArray(extensions))) return refused('BAD_REQUEST', 'extensions must be an object');
    const extensionFields = (extensions ?? {}) as Record<string, unknown>;
    const resolution = await this.options.persisted.resolve(
      { query, documentId, persistedQuery: extensionFields.persistedQuery, operationName: operationName ?? undefined },
      who.trusted,
    );
    if (resolution.kind === 'refused') return refused(resolution.code, resolution.message);
    const checked = this.check(resolution.query, operationName ?? undefined);
    if ('errors' in checked) return { ok: false, errors: checked.errors };
    const sent = (variables ?? {}) as Record<string, unknown>;
    const tooCostly = costRefusal(checked.operation, checked.document, this.options.limits, sent);
    if (tooCostly !== undefined) return { ok: false, errors: [withCode(tooCostly, 'GRAPHQL_VALIDATION_FAILED')] };
    const { rateLimits } = this.options;
    const refusal = await rateLimits?.chargeSubscription(who.identity, who.clientAddress, { query: resolution.query, operationName: operationName ?? undefined, variables: sent });
    if (rateLimits !== undefined && refusal !== undefined) return { ok: false, errors: rateLimits.refusalErrors(refusal), rateLimited: rateLimits.refusal(refusal) };
    await resolution.register?.();
    const resumeFrom = typeof extensionFields.lastEventId === 'string' ? extensionFields.lastEventId : lastEventId;
    return {
      ok: true,
      request: {
        document: checked.document,
        documentKey: checked.key,
        operationName: operationName ?? undefined,
        variables: sent,
        viewer: who.viewer,
        identity: who.identity,
        lastEventId: resumeFrom,
      },
    };
  }

  private check(text: string, operationName: string | undefined): { document: DocumentNode; operation: OperationDefinitionNode; key: string } | { errors: GraphQLFormattedError[] } {
    const cacheKey = textKey(text, operationName);
    const known = this.checked.get(cacheKey);
    if (known !== undefined) return known;
    const checked = this.checkText(text, operationName);
    this.checked.set(cacheKey, checked);
    return checked;
  }

  private checkText(text: string, operationName: string | undefined): { document: DocumentNode; operation: OperationDefinitionNode; key: string } | { errors: GraphQLFormattedError[] } {
    let document: DocumentNode;
    try {
      document = parse(text, { maxTokens: this.options.maxTokens });
    } catch (error) {
      return { errors: [withCode(error instanceof GraphQLError ? error : new GraphQLError(String(error)), 'GRAPHQL_PARSE_FAILED')] };
    }
    const invalid = validate(this.options.schema, document, this.options.validationRules);
    if (invalid.length > 0) return { errors: invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')) };
    const operation = getOperationAST(document, operationName);
    if (operation === null || operation === undefined) return { errors: [{ message: operationName === undefined ? 'Send one operation, or name the one to run in operationName' : `Unknown operation "${operationName}"`, extensions: { code: 'BAD_REQUEST' } }] };
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return { errors: [{ message: `Only subscriptions are served here; send this ${operation.operation} over HTTP (POST or GET /graphql)`, extensions: { code: 'BAD_REQUEST' } }] };
    }
    return { document, operation, key: createHash('sha256').update(text).digest('base64url') };
  }
}

function refused(code: string, message: string): Prepared<never> {
  return { ok: false, errors: [{ message, extensions: { code } }] };
}

function withCode(error: GraphQLError, code: string): GraphQLFormattedError {
  const formatted = error.toJSON();
  return { ...formatted, extensions: { ...formatted.extensions, code } };
}
