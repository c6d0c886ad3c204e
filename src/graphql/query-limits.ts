import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';

/** Bounds on a single operation, checked during validation: before any resolver runs. */
export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
  /** Whether the schema may be introspected (off in production): see INTROSPECTION_LIMITS. */
  readonly introspection?: boolean;
}

/**
 * Bounds for an operation that only introspects (its root fields are all `__schema`, `__type` or
 * `__typename`), used instead of the limits above while introspection is enabled.
 *
 * Why: tools open with graphql-js's `getIntrospectionQuery()` (GraphiQL, IDE plugins, Postman,
 * rover, codegen), whose `ofType` chain alone is 9 levels deep and which is 15 deep in all: the
 * depth limit meant for data queries refused it. Introspection is answered from the schema in
 * memory, without a resolver or data source, and depth as such costs little (`ofType` is one
 * object per level); what costs is lists inside lists (`types { fields { args { type { fields …`),
 * each level multiplying the answer by the size of the schema. graphql-js's own
 * MaxIntrospectionDepthRule (a specified rule, which Apollo always runs) refuses a third nested
 * `fields`, `interfaces`, `possibleTypes` or `inputFields` (Apollo Router's cycle limit) but lets `types`, `args` and `enumValues` multiply in between. So an
 * introspection here may nest at most 3 list fields of any kind (the standard query's deepest
 * path is `types`, `fields`, `args`), at most 20 levels (room for a `typeDepth` of 14), and has
 * alias and field-count bounds of its own. These are constants, not settings: they fit the
 * introspection schema, which does not change with this API's schema. An operation that mixes
 * introspection and data fields is a data query, under the normal limits.
 */
export const INTROSPECTION_LIMITS = { maxDepth: 20, maxListDepth: 3, maxAliases: 15, maxCost: 2000 } as const;

/** The fields of the introspection types (`__Schema`, `__Type`, `__Field`, `__Directive`) that return lists of objects. */
const INTROSPECTION_LISTS = new Set(['types', 'directives', 'fields', 'args', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues']);
const META_ROOT_FIELDS = new Set(['__schema', '__type', '__typename']);

interface Bounds {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
  /** Counted only for introspection: how many INTROSPECTION_LISTS fields may nest on one path. */
  readonly maxListDepth?: number;
}

interface Stats {
  aliases: number;
  maxDepth: number;
  maxListDepth: number;
  cost: number;
}

/** Arguments that multiply the cost of what a list field selects (`signals(limit: 200)`, a connection's `first: 100`). */
const SIZE_ARGUMENTS = new Set(['limit', 'count', 'perSymbol', 'first', 'last']);
const LIST_ARGUMENTS = new Set(['ids', 'symbols']);
/** A size left to the field's default (not given, or null): assume this many items. */
const ASSUMED_SIZE = 50;

/**
 * A request's variable values. Validation runs without them (Apollo validates a document once,
 * whatever its variables), so there a size given through a variable counts as 1, the least it can
 * be, and the request's own check (queryCostPlugin, LiveRequests) counts it as sent: otherwise
 * `limit: $n` with n = 200 would pass where `limit: 200` is refused.
 */
export type VariableValues = Readonly<Record<string, unknown>>;

/**
 * One validation rule enforcing all limits, each with its own message and `limit` extension:
 * depth (fragments expanded), aliases, directives, and cost (one per field, multiplied by the
 * page size of list fields above it). Fragment cycles are left to graphql-js's own rule; the
 * walk below simply does not follow a fragment already on its path. With introspection enabled,
 * an introspection-only operation gets INTROSPECTION_LIMITS instead (directives count as ever).
 */
export function queryLimitsRule(limits: QueryLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const refuse = (limit: string, message: string) => context.reportError(new GraphQLError(message, { extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit } }));

    let directives = 0;
    return {
      Directive() {
        directives += 1;
        if (directives === limits.maxDirectives + 1) refuse('directives', `Too many directives: at most ${limits.maxDirectives} per operation`);
      },
      OperationDefinition(operation: OperationDefinitionNode) {
        const introspection = limits.introspection === true && isIntrospectionOnly(operation.selectionSet, fragments, new Map());
        const bounds: Bounds = introspection ? INTROSPECTION_LIMITS : limits;
        const what = introspection ? 'Introspection query' : 'Query';
        const stats: Stats = { aliases: 0, maxDepth: 0, maxListDepth: 0, cost: 0 };
        walk(operation.selectionSet, 1, 1, 0, new Set(), fragments, stats, bounds);
        const cost = stats.cost;
        if (stats.maxDepth > bounds.maxDepth) refuse('depth', `${what} is too deep: ${stats.maxDepth} levels, at most ${bounds.maxDepth}`);
        if (bounds.maxListDepth !== undefined && stats.maxListDepth > bounds.maxListDepth) {
          refuse('introspectionLists', `Introspection query nests too many lists (types, fields, args, interfaces…): ${stats.maxListDepth}, at most ${bounds.maxListDepth}`);
        }
        if (stats.aliases > bounds.maxAliases) refuse('aliases', `Too many aliases: ${stats.aliases}, at most ${bounds.maxAliases}`);
        if (cost > bounds.maxCost) refuse('cost', `${what} is too costly: more than ${bounds.maxCost} (one per field, times the page sizes above it)`);
      },
    };
  };
}

/**
 * The cost queryLimitsRule judges an operation by (one per field, times the page sizes above it),
 * counted up to just past `limits.maxCost`: what the rate limits spend (see QueryCosts).
 */
export function operationCost(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  limits: Pick<QueryLimits, 'maxDepth' | 'maxAliases' | 'maxCost'>,
  variables?: VariableValues,
): number {
  const stats: Stats = { aliases: 0, maxDepth: 0, maxListDepth: 0, cost: 0 };
  walk(operation.selectionSet, 1, 1, 0, new Set(), fragments, stats, limits, variables);
  return stats.cost;
}

/**
 * The cost refusal for an operation whose sizes come through variables, judged with the
 * request's values: `undefined` when within the limit. What validation cannot see (see
 * VariableValues); an introspection-only operation is validation's alone.
 */
export function costRefusal(operation: OperationDefinitionNode, document: DocumentNode, limits: QueryLimits, variables: VariableValues): GraphQLError | undefined {
  if (operation.variableDefinitions === undefined || operation.variableDefinitions.length === 0) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  if (limits.introspection === true && isIntrospectionOnly(operation.selectionSet, fragments, new Map())) return undefined;
  if (operationCost(operation, fragments, limits, withDefaults(operation, variables)) <= limits.maxCost) return undefined;
  return new GraphQLError(`Query is too costly: more than ${limits.maxCost} (one per field, times the page sizes above it, those given in variables as sent)`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost', http: { status: 400 } },
  });
}

/** The variables as the operation runs with them: the request's values over the operation's defaults (`$n: Int = 200`). */
export function withDefaults(operation: OperationDefinitionNode, variables: VariableValues): VariableValues {
  // No prototype: a variable may be named `__proto__`.
  const effective: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue !== undefined) effective[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue);
  }
  return Object.assign(effective, variables);
}

/** Refuses, before anything runs, an operation too costly with the sizes its variables give (see costRefusal). */
export function queryCostPlugin<Context extends BaseContext>(limits: QueryLimits): ApolloServerPlugin<Context> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operation, document, request }) {
          const refusal = operation === undefined ? undefined : costRefusal(operation, document, limits, request.variables ?? {});
          return refusal === undefined ? Promise.resolve() : Promise.reject(refusal);
        },
      });
    },
  };
}

/**
 * Whether every root field of an operation, through fragments, is `__schema`, `__type` or
 * `__typename`. Each fragment is judged once (`known`), so a fragment "bomb" costs linear time;
 * one still being judged counts as introspection (a cycle, which graphql-js refuses anyway).
 */
function isIntrospectionOnly(selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, known: Map<string, boolean>): boolean {
  return selectionSet.selections.every((selection) => {
    switch (selection.kind) {
      case Kind.FIELD:
        return META_ROOT_FIELDS.has(selection.name.value);
      case Kind.INLINE_FRAGMENT:
        return isIntrospectionOnly(selection.selectionSet, fragments, known);
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const judged = known.get(name);
        if (judged !== undefined || fragment === undefined) return judged ?? true;
        known.set(name, true);
        const only = isIntrospectionOnly(fragment.selectionSet, fragments, known);
        known.set(name, only);
        return only;
      }
    }
  });
}

/**
 * Adds the cost of a selection set to `stats`, recording depth, aliases and (for introspection)
 * nested lists. Every field costs at least one, and the walk stops as soon as the cost passes the
 * limit, so a fragment "bomb" that would expand exponentially is refused after at most maxCost
 * steps.
 */
function walk(
  selectionSet: SelectionSetNode,
  depth: number,
  multiplier: number,
  lists: number,
  path: Set<string>,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  stats: Stats,
  limits: Bounds,
  variables?: VariableValues,
): void {
  for (const selection of selectionSet.selections) {
    if (stats.cost > limits.maxCost) return;
    switch (selection.kind) {
      case Kind.FIELD: {
        if (selection.alias !== undefined) stats.aliases += 1;
        stats.maxDepth = Math.max(stats.maxDepth, depth);
        stats.cost += multiplier;
        if (selection.selectionSet === undefined) break;
        const nested = limits.maxListDepth !== undefined && INTROSPECTION_LISTS.has(selection.name.value) ? lists + 1 : lists;
        stats.maxListDepth = Math.max(stats.maxListDepth, nested);
        // Past either bound (already recorded), what lies below cannot change the verdict.
        if (depth > limits.maxDepth) {
          stats.maxDepth = Math.max(stats.maxDepth, depth + 1);
        } else if (nested <= (limits.maxListDepth ?? Infinity)) {
          walk(selection.selectionSet, depth + 1, multiplier * pageSize(selection, variables), nested, path, fragments, stats, limits, variables);
        }
        break;
      }
      case Kind.INLINE_FRAGMENT:
        walk(selection.selectionSet, depth, multiplier, lists, path, fragments, stats, limits, variables);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment === undefined || path.has(name)) break;
        path.add(name);
        walk(fragment.selectionSet, depth, multiplier, lists, path, fragments, stats, limits, variables);
        path.delete(name);
        break;
      }
    }
  }
}

function pageSize(field: FieldNode, variables: VariableValues | undefined): number {
  let size = 1;
  for (const argument of field.arguments ?? []) {
    if (SIZE_ARGUMENTS.has(argument.name.value)) size = Math.max(size, numberOf(argument.value, variables));
    if (LIST_ARGUMENTS.has(argument.name.value)) size = Math.max(size, lengthOf(argument.value, variables));
  }
  return size;
}

/** A size argument's value; through a variable, as the request sent it (1 while validating: see VariableValues). */
function numberOf(value: ValueNode, variables: VariableValues | undefined): number {
  if (value.kind === Kind.INT) return Math.max(1, Number(value.value));
  if (value.kind !== Kind.VARIABLE) return ASSUMED_SIZE;
  if (variables === undefined) return 1;
  const sent = variables[value.name.value];
  return typeof sent === 'number' && Number.isFinite(sent) ? Math.max(1, sent) : ASSUMED_SIZE;
}

/** A list argument's length; through a variable, as the request sent it (a single value is a list of one). */
function lengthOf(value: ValueNode, variables: VariableValues | undefined): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind !== Kind.VARIABLE) return ASSUMED_SIZE;
  if (variables === undefined) return 1;
  const sent = variables[value.name.value];
  return Array.isArray(sent) ? sent.length : sent === undefined || sent === null ? ASSUMED_SIZE : 1;
}
