import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';

/** Bounds on a single operation, checked during validation: before any resolver runs. */
export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
}

/** Arguments that multiply the cost of what a list field selects (`signals(limit: 200)`). */
const SIZE_ARGUMENTS = new Set(['limit', 'count', 'perSymbol']);
const LIST_ARGUMENTS = new Set(['ids', 'symbols']);
/** A size given through a variable is not known at validation; assume this many items. */
const ASSUMED_SIZE = 50;

/**
 * One validation rule enforcing all limits, each with its own message and `limit` extension:
 * depth (fragments expanded), aliases, directives, and cost (one per field, multiplied by the
 * page size of list fields above it). Fragment cycles are left to graphql-js's own rule; the
 * walk below simply does not follow a fragment already on its path.
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
        const stats = { aliases: 0, maxDepth: 0, cost: 0 };
        walk(operation.selectionSet, 1, 1, new Set(), fragments, stats, limits);
        const cost = stats.cost;
        if (stats.maxDepth > limits.maxDepth) refuse('depth', `Query is too deep: ${stats.maxDepth} levels, at most ${limits.maxDepth}`);
        if (stats.aliases > limits.maxAliases) refuse('aliases', `Too many aliases: ${stats.aliases}, at most ${limits.maxAliases}`);
        if (cost > limits.maxCost) refuse('cost', `Query is too costly: more than ${limits.maxCost} (one per field, times the page sizes above it)`);
      },
    };
  };
}

/**
 * Adds the cost of a selection set to `stats`, recording depth and aliases. Every field costs at
 * least one, and the walk stops as soon as the cost passes the limit, so a fragment "bomb" that
 * would expand exponentially is refused after at most maxCost steps.
 */
function walk(
  selectionSet: SelectionSetNode,
  depth: number,
  multiplier: number,
  path: Set<string>,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  stats: { aliases: number; maxDepth: number; cost: number },
  limits: QueryLimits,
): void {
  for (const selection of selectionSet.selections) {
    if (stats.cost > limits.maxCost) return;
    switch (selection.kind) {
      case Kind.FIELD:
        if (selection.alias !== undefined) stats.aliases += 1;
        stats.maxDepth = Math.max(stats.maxDepth, depth);
        stats.cost += multiplier;
        if (selection.selectionSet !== undefined && depth <= limits.maxDepth) {
          walk(selection.selectionSet, depth + 1, multiplier * pageSize(selection), path, fragments, stats, limits);
        } else if (selection.selectionSet !== undefined) {
          stats.maxDepth = Math.max(stats.maxDepth, depth + 1);
        }
        break;
      case Kind.INLINE_FRAGMENT:
        walk(selection.selectionSet, depth, multiplier, path, fragments, stats, limits);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment === undefined || path.has(name)) break;
        path.add(name);
        walk(fragment.selectionSet, depth, multiplier, path, fragments, stats, limits);
        path.delete(name);
        break;
      }
    }
  }
}

function pageSize(field: FieldNode): number {
  let size = 1;
  for (const argument of field.arguments ?? []) {
    if (SIZE_ARGUMENTS.has(argument.name.value)) size = Math.max(size, numberOf(argument.value));
    if (LIST_ARGUMENTS.has(argument.name.value)) size = Math.max(size, argument.value.kind === Kind.LIST ? argument.value.values.length : ASSUMED_SIZE);
  }
  return size;
}

function numberOf(value: ValueNode): number {
  if (value.kind === Kind.INT) return Math.max(1, Number(value.value));
  return ASSUMED_SIZE;
}
