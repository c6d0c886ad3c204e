import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { context, type Span, trace } from '@opentelemetry/api';

import { OPERATION_SPAN, type Tracing } from './tracing';

/**
 * Names the GraphQL operation's span from the parsed document (`graphql.operation.name`,
 * `graphql.operation.type`) when Apollo executes it. Under TracedAnswers the span exists already
 * and is active, with the execution's work under it; for what the GraphQL route sends straight to
 * Apollo (the response cache off, or an operation it cannot key) this opens the operation's span,
 * beside that work rather than over it (a plugin's hooks cannot change the context execution runs in).
 */
export function operationSpanPlugin<Context extends BaseContext>(tracing: Tracing): ApolloServerPlugin<Context> {
  return {
    requestDidStart() {
      const active = context.active();
      const existing = active.getValue(OPERATION_SPAN) as Span | undefined;
      const span = existing !== undefined && existing === trace.getSpan(active) ? existing : tracing.startChild('graphql.operation');
      if (span === undefined) return Promise.resolve();
      const own = span !== existing;
      return Promise.resolve({
        didResolveOperation({ operationName, operation }) {
          const type = operation?.operation ?? 'query';
          span.updateName(operationName === null ? type : `${type} ${operationName}`);
          span.setAttributes(operationName === null ? { 'graphql.operation.type': type } : { 'graphql.operation.type': type, 'graphql.operation.name': operationName });
          return Promise.resolve();
        },
        willSendResponse({ response }) {
          if (response.body.kind === 'single') span.setAttribute('graphql.errors', response.body.singleResult.errors?.length ?? 0);
          if (own) span.end();
          return Promise.resolve();
        },
      });
    },
  };
}
