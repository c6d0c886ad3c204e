import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type ASTNode,
  BREAK,
  type DirectiveNode,
  type DocumentNode,
  DirectiveLocation,
  getNamedType,
  OperationTypeNode,
  type GraphQLCompositeType,
  GraphQLDirective,
  GraphQLEnumType,
  type GraphQLField,
  type GraphQLResolveInfo,
  GraphQLInt,
  type GraphQLSchema,
  isCompositeType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { Directive } from 'type-graphql';

export type CacheScope = 'PUBLIC' | 'PRIVATE';

/** A cache hint: how long a field or type may be cached, and whether it depends on the viewer. */
export interface CacheHint {
  readonly maxAge?: number;
  readonly scope?: CacheScope;
}

const scopeEnum = new GraphQLEnumType({ name: 'CacheControlScope', values: { PUBLIC: {}, PRIVATE: {} } });

/** The `@cacheControl` directive, with Apollo's spelling, declared in the schema. */
export const cacheControlDirective = new GraphQLDirective({
  name: 'cacheControl',
  locations: [DirectiveLocation.OBJECT, DirectiveLocation.FIELD_DEFINITION, DirectiveLocation.INTERFACE, DirectiveLocation.UNION],
  args: { maxAge: { type: GraphQLInt }, scope: { type: scopeEnum } },
});

/** Code-first cache hint for a type-graphql type or field: `@CacheControl({ maxAge: 60 })`. */
export function CacheControl(hint: CacheHint): MethodDecorator & PropertyDecorator & ClassDecorator {
  const args = [hint.maxAge === undefined ? '' : `maxAge: ${Math.floor(hint.maxAge)}`, hint.scope === undefined ? '' : `scope: ${hint.scope}`].filter(Boolean);
  return Directive(`@cacheControl(${args.join(', ')})`);
}

/**
 * What one request's response may do in a cache. Follows Apollo's rules: a field returning an
 * object (or any root field) without a hint makes the response uncacheable; scalar fields
 * inherit; the smallest maxAge wins; one PRIVATE field makes the whole response private.
 */
export class ResponsePolicy {
  private maxAgeSeconds = Number.POSITIVE_INFINITY;
  private privateScope = false;
  private refusal: string | undefined;
  /** What the response shows, for eviction when any of it changes. */
  readonly tags = new Set<string>();
  isQuery = false;

  restrict(maxAgeSeconds: number): void {
    this.maxAgeSeconds = Math.min(this.maxAgeSeconds, maxAgeSeconds);
  }

  makePrivate(): void {
    this.privateScope = true;
  }

  refuse(reason: string): void {
    this.refusal ??= reason;
  }

  get scope(): CacheScope {
    return this.privateScope ? 'PRIVATE' : 'PUBLIC';
  }

  /** Seconds the response may be cached; 0 when it may not be. */
  get ttlSeconds(): number {
    if (this.refusal !== undefined || !Number.isFinite(this.maxAgeSeconds)) return 0;
    return Math.max(0, Math.floor(this.maxAgeSeconds));
  }

  get reason(): string | undefined {
    return this.refusal ?? (this.ttlSeconds === 0 ? 'no cache hint' : undefined);
  }
}

/** Names what a resolved field shows (`User:42`, `Market:EUR_USD`); supplied by the composition root. */
export type EntityTagger = (info: GraphQLResolveInfo, source: unknown, args: Record<string, unknown>, result: unknown) => readonly string[];

export interface PolicyContext extends BaseContext {
  readonly responsePolicy?: ResponsePolicy;
}

/**
 * Computes the ResponsePolicy of each request from `@cacheControl` hints in the schema and from
 * `overrides` by schema coordinate (`Price`, `User.email`), which win. Apollo's own cache-control
 * plugin must be disabled: this one replaces it.
 */
export function responsePolicyPlugin<Context extends PolicyContext>(options: { overrides: ReadonlyMap<string, CacheHint>; tagger: EntityTagger }): ApolloServerPlugin<Context> {
  const hints = new Map<string, CacheHint>();
  const hintFor = (coordinate: string, node: ASTNode | null | undefined): CacheHint => {
    let hint = hints.get(coordinate);
    if (hint === undefined) {
      hint = { ...directiveHint(node), ...options.overrides.get(coordinate) };
      hints.set(coordinate, hint);
    }
    return hint;
  };

  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operation, contextValue }) {
          const policy = contextValue.responsePolicy;
          if (policy === undefined) return Promise.resolve();
          if (operation === undefined) {
            policy.refuse('no operation');
            return Promise.resolve();
          }
          if (operation.operation !== OperationTypeNode.QUERY) policy.refuse(`a ${operation.operation}`);
          else policy.isQuery = true;
          // `__typename` is not introspection: clients add it everywhere (Apollo Client's cache,
          // codegen's documents), and at the root it is the constant "Query".
          const introspection = operation.selectionSet.selections.some((selection) => selection.kind === Kind.FIELD && (selection.name.value === '__schema' || selection.name.value === '__type'));
          if (introspection) policy.refuse('introspection');
          return Promise.resolve();
        },
        executionDidStart() {
          return Promise.resolve({
            willResolveField({ info, source, args, contextValue }) {
              const policy = contextValue.responsePolicy;
              if (policy === undefined) return;
              const field: GraphQLField<unknown, unknown> | undefined = info.parentType.getFields()[info.fieldName];
              const fieldHint = hintFor(`${info.parentType.name}.${info.fieldName}`, field?.astNode);
              const named = getNamedType(info.returnType);
              let maxAge = fieldHint.maxAge;
              let scope = fieldHint.scope;
              if (isCompositeType(named)) {
                const typeHint = hintFor(named.name, (named as GraphQLCompositeType).astNode);
                maxAge ??= typeHint.maxAge ?? 0;
                scope ??= typeHint.scope;
              } else if (info.path.prev === undefined) {
                maxAge ??= 0;
              }
              if (maxAge !== undefined) policy.restrict(maxAge);
              if (scope === 'PRIVATE') policy.makePrivate();
              return (error, result) => {
                if (error !== null) return;
                for (const tag of options.tagger(info, source, args, result)) {
                  policy.tags.add(tag);
                  // The umbrella (`User` for `User:42`) lets "all of a kind" invalidations find it.
                  if (tag.includes(':')) policy.tags.add(tag.slice(0, tag.indexOf(':')));
                }
              };
            },
          });
        },
        willSendResponse({ response, contextValue }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors !== undefined && errors.length > 0) contextValue.responsePolicy?.refuse('errors');
          if (response.body.kind === 'incremental') contextValue.responsePolicy?.refuse('incremental delivery');
          return Promise.resolve();
        },
      });
    },
  };
}

/**
 * Whether a document can show private data (a field or type hinted PRIVATE, in the schema or in
 * `overrides`): its results then depend on who asks. For work done once for many viewers
 * (subscriptions), which must be done per viewer for such a document.
 */
export function showsPrivateData(schema: GraphQLSchema, document: DocumentNode, overrides: ReadonlyMap<string, CacheHint>): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  const scopeOf = (coordinate: string, node: ASTNode | null | undefined) => ({ ...directiveHint(node), ...overrides.get(coordinate) }).scope;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent === null || parent === undefined || field === null || field === undefined) return undefined;
        const named = getNamedType(field.type);
        const scope = scopeOf(`${parent.name}.${field.name}`, field.astNode) ?? (isCompositeType(named) ? scopeOf(named.name, named.astNode) : undefined);
        if (scope !== 'PRIVATE') return undefined;
        found = true;
        return BREAK;
      },
    }),
  );
  return found;
}

function directiveHint(node: ASTNode | null | undefined): CacheHint {
  const directive = (node as { directives?: readonly DirectiveNode[] } | null | undefined)?.directives?.find((d) => d.name.value === 'cacheControl');
  if (directive === undefined) return {};
  const hint: { maxAge?: number; scope?: CacheScope } = {};
  for (const argument of directive.arguments ?? []) {
    if (argument.name.value === 'maxAge' && argument.value.kind === Kind.INT) hint.maxAge = Number(argument.value.value);
    if (argument.name.value === 'scope' && argument.value.kind === Kind.ENUM) hint.scope = argument.value.value === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC';
  }
  return hint;
}
