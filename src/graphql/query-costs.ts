import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { LRUCache } from 'lru-cache';

import { operationCost, type QueryLimits } from './query-limits';

/** Texts whose cost is remembered, by bytes (texts as UTF-16). */
const REMEMBERED_BYTES = 4 * 1024 ** 2;
/** A remembered cost besides its text. */
const ENTRY_BYTES = 64;

/**
 * What an operation costs a viewer's rate budget: the cost the query limits judge it by. Each
 * distinct text (and operation name) is parsed once and its cost remembered, bounded by bytes; a
 * document that does not parse or has no such operation costs 1 (Apollo refuses it unexecuted).
 */
export class QueryCosts {
  private readonly known = new LRUCache<string, number>({ maxSize: REMEMBERED_BYTES, sizeCalculation: (_cost, key) => key.length * 2 + ENTRY_BYTES });

  constructor(
    private readonly limits: Pick<QueryLimits, 'maxDepth' | 'maxAliases' | 'maxCost'>,
    private readonly maxTokens: number,
  ) {}

  of(query: string, operationName: string | undefined): number {
    const key = operationName === undefined ? query : `${operationName}\0${query}`;
    let cost = this.known.get(key);
    if (cost === undefined) {
      cost = this.measure(query, operationName);
      this.known.set(key, cost);
    }
    return cost;
  }

  private measure(query: string, operationName: string | undefined): number {
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
      return 1;
    }
    const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((candidate) => candidate.name?.value === operationName);
    return operation === undefined ? 1 : Math.max(1, operationCost(operation, fragments, this.limits));
  }
}
