import { type GraphQLSchema, specifiedDirectives } from 'graphql';
import { buildSchema, type BuildSchemaOptions } from 'type-graphql';

import { cacheControlDirective } from './response-cache/cache-policy';
import { validateArgs } from './validate-args';

/** A resolver class and the instance that serves it (built by the composition root). */
export type ResolverBinding = readonly [cls: new (...args: never[]) => object, instance: object];

/**
 * Builds the executable schema from code-first resolvers. type-graphql asks the container for
 * resolver instances, so resolvers receive their services through constructors like everything else.
 */
export function buildGraphqlSchema(bindings: readonly ResolverBinding[]): Promise<GraphQLSchema> {
  const instances = new Map<unknown, object>(bindings);
  const resolvers = bindings.map(([cls]) => cls) as unknown as BuildSchemaOptions['resolvers'];
  return buildSchema({
    resolvers,
    container: {
      get(cls: unknown) {
        const instance = instances.get(cls);
        if (instance === undefined) throw new Error(`No instance bound for resolver ${String(cls)}`);
        return instance;
      },
    },
    validateFn: (value) => validateArgs(value),
    // Given directives replace graphql-js's defaults: without them @include and @skip, which
    // every front end uses, would be refused as unknown.
    directives: [...specifiedDirectives, cacheControlDirective],
    emitSchemaFile: false,
    // type-graphql insists on a PubSub once there are subscriptions, even when every field brings
    // its own `subscribe`, as ours do (events come from the LiveBus, see live/live-hub.ts).
    pubSub: {
      publish() {
        throw new Error('subscription events are published on the LiveBus, not through type-graphql');
      },
      subscribe() {
        throw new Error('subscriptions are served by the live transports, not through type-graphql');
      },
    },
  });
}
