import type { ApolloServer } from '@apollo/server';
import type { Attributes } from '@opentelemetry/api';

import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import { type CachedAnswer, CachedAnswers, type Identified, type RequestHead } from '../http/cached-answers';
import type { ResolvedOperation } from '../http/remembered-requests';
import { endAfter, OPERATION_SPAN, type Tracing } from './tracing';

/**
 * The response cache's answers with a span per GraphQL operation (`query Board`): its name, its
 * type and the cache's outcome (`gateway.cache`: HIT, HIT-SHARED, MISS, BYPASS, as `x-cache`
 * says), whichever HTTP layer asked; the asker's span (the request's) gets the outcome too. What
 * the answer took (the shared read, the execution's SQL and provider calls, the store) hangs under
 * it. Apollo's hook (operationSpanPlugin) corrects the name and type from the parsed document when
 * the operation is executed.
 */
export class TracedAnswers<Context extends PolicyContext> extends CachedAnswers<Context> {
  /** Span names and attributes by operation: the hit front's repeats come with the same object each time. */
  private readonly described = new WeakMap<ResolvedOperation, OperationSpan>();

  constructor(
    private readonly tracing: Tracing,
    apollo: ApolloServer<Context>,
    responseCache: ResponseCache,
  ) {
    super(apollo, responseCache);
  }

  override near(publicKey: string, identity: string, operation: ResolvedOperation): StoredResponse | undefined {
    const found = super.near(publicKey, identity, operation);
    // A near miss is followed by `answer`, whose span covers the rest.
    if (found === undefined) return found;
    const asker = this.tracing.recordingSpan();
    if (asker !== undefined) {
      asker.setAttribute('gateway.cache', 'HIT');
      const { name, nearHit } = this.spanOf(operation);
      this.tracing.startChild(name, nearHit)?.end();
    }
    return found;
  }

  override answer(request: RequestHead, requestId: string, who: Identified<Context>, operation: ResolvedOperation, publicKey: string): Promise<CachedAnswer> {
    const asker = this.tracing.recordingSpan();
    const described = asker === undefined ? undefined : this.spanOf(operation);
    const span = described === undefined ? undefined : this.tracing.startChild(described.name, described.attributes);
    if (asker === undefined || span === undefined) return super.answer(request, requestId, who, operation, publicKey);
    return endAfter(
      span,
      () => this.tracing.within(span, () => super.answer(request, requestId, who, operation, publicKey), OPERATION_SPAN),
      (done, answer) => {
        const outcome = answer.kind === 'stored' ? answer.marker : 'BYPASS';
        done.setAttribute('gateway.cache', outcome);
        asker.setAttribute('gateway.cache', outcome);
      },
    );
  }

  /**
   * The operation span's name and attributes (and those of a near hit's, which has nothing else
   * to add), for a recorded span only: a look at the document's words, remembered. The spans
   * take these objects as they are (a span copies them only to add to them).
   */
  private spanOf(operation: ResolvedOperation): OperationSpan {
    let described = this.described.get(operation);
    if (described === undefined) {
      const { type, name } = describeOperation(operation.query, operation.operationName);
      const attributes: Attributes = name === undefined ? { 'graphql.operation.type': type } : { 'graphql.operation.type': type, 'graphql.operation.name': name };
      described = { name: name === undefined ? type : `${type} ${name}`, attributes, nearHit: { ...attributes, 'gateway.cache': 'HIT', 'gateway.response_cache.tier': 'near' } };
      this.described.set(operation, described);
    }
    return described;
  }
}

interface OperationSpan {
  readonly name: string;
  readonly attributes: Attributes;
  readonly nearHit: Attributes;
}

/**
 * The type and name of the operation a document runs, read from its text without parsing it: the
 * definition named `operationName`, else the first one (`{ … }` is an anonymous query).
 */
export function describeOperation(query: string, operationName: string | undefined): { type: string; name: string | undefined } {
  const definitions = query.matchAll(/(?:^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?|^\s*\{/g);
  for (const match of definitions) {
    const type = match[1] ?? 'query';
    const name = match[2];
    if (operationName === undefined || name === operationName) return { type, name };
  }
  return { type: 'query', name: operationName };
}
