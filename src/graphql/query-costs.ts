import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { LRUCache } from 'lru-cache';

import { operationCost, type QueryLimits, type VariableValues, withDefaults } from './query-limits';

/** Texts whose parse is remembered, by bytes (texts as UTF-16, and their syntax tree at about three times that). */
const REMEMBERED_BYTES = 16 * 1024 ** 2;
/** A remembered parse besides its text. */
const ENTRY_BYTES = 64;

/** An operation as parsed once: its cost, or what it takes to count it with a request's variables. */
type Measured = { readonly cost: number } | { readonly operation: OperationDefinitionNode; readonly fragments: ReadonlyMap<string, FragmentDefinitionNode> };

/**
 * One key per (text, operation name) sent, for what is remembered about them before anything is
 * validated: the name's length comes first, so no text or name a client sends can pass for
 * another pair (with a separator, a text holding it could, and poison what another request gets).
 */
export function textKey(text: string, operationName: string | undefined): string {
  return operationName === undefined ? `-${text}` : `${operationName.length}:${operationName}${text}`;
}

/**
 * What an operation costs a viewer's rate budget: the cost the query limits judge it by, with
 * the sizes its variables give as sent. Each distinct text (and operation name) is parsed once
 * and remembered, bounded by bytes; a document that does not parse or has no such operation
 * costs 1 (Apollo refuses it unexecuted).
 */
export class QueryCosts {
  private readonly known = new LRUCache<string, Measured>({ maxSize: REMEMBERED_BYTES, sizeCalculation: (_measured, key) => key.length * 8 + ENTRY_BYTES });

  constructor(
    private readonly limits: Pick<QueryLimits, 'maxDepth' | 'maxAliases' | 'maxCost'>,
    private readonly maxTokens: number,
  ) {}

  of(query: string, operationName: string | undefined, variables: VariableValues = {}): number {
    const key = textKey(query, operationName);
    let measured = this.known.get(key);
    if (measured === undefined) {
      measured = this.measure(query, operationName);
      this.known.set(key, measured);
    }
    return 'cost' in measured ? measured.cost : Math.max(1, operationCost(measured.operation, measured.fragments, this.limits, withDefaults(measured.operation, variables)));
  }

  private measure(query: string, operationName: string | undefined): Measured {
    let operations: OperationDefinitionNode[];
    const fragments = new Map<string, FragmentDefinitionNode>();
    try {
      const document = parse(query, { noLocation: true, maxTokens: this.maxTokens });
      operations = [];
      for (const definition of document.definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
        else if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
    } catch {
      return { cost: 1 };
    }
    const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((candidate) => candidate.name?.value === operationName);
    if (operation === undefined) return { cost: 1 };
    // Without variables the cost is the text's alone: remembered as a number, not as a tree.
    if (operation.variableDefinitions === undefined || operation.variableDefinitions.length === 0) return { cost: Math.max(1, operationCost(operation, fragments, this.limits)) };
    return { operation, fragments };
  }
}
