import { createHash } from 'node:crypto';

import { Kind, parse, stripIgnoredCharacters } from 'graphql';
import { LRUCache } from 'lru-cache';

import { canonicalJson } from '../../cache/cache-keys';

/** Without a bound on bytes, 2,000 remembered texts of the largest body allowed (100 KiB) would be 400 MiB. */
const DEFAULT_MAX_BYTES = 8 * 1024 ** 2;
/** A remembered shape besides its text: the digest and the variable names, roughly. */
const SHAPE_BYTES = 256;

/** What a cache key needs from a document: a digest of its normalised text, and the variables each operation declares. */
interface DocumentShape {
  readonly digest: string;
  /** Declared variable names by operation name; `''` names the document's only operation. */
  readonly variables: ReadonlyMap<string, readonly string[]>;
}

/**
 * Turns an operation as sent into the digest of what it means, so that the response cache keeps
 * one entry per meaning rather than one per spelling: comments, whitespace and commas do not
 * count, nor variables the operation does not declare, nor the order of object keys. Otherwise a
 * client could grow Redis without bound with requests that differ only in a comment.
 *
 * Each distinct text is parsed once and remembered (bounded); the hot path then costs a map
 * lookup and one hash of the variables.
 */
export class OperationDigests {
  private readonly shapes: LRUCache<string, DocumentShape | false>;

  /**
   * `maxDocuments` distinct texts are remembered, weighing at most `maxBytes` (texts as UTF-16; 8 MiB
   * by default); `maxTokens` bounds a parse, as Apollo's own does.
   */
  constructor(private readonly options: { readonly maxDocuments: number; readonly maxBytes?: number; readonly maxTokens: number }) {
    this.shapes = new LRUCache({
      max: options.maxDocuments,
      maxSize: options.maxBytes ?? DEFAULT_MAX_BYTES,
      sizeCalculation: (_shape, query) => query.length * 2 + SHAPE_BYTES,
    });
  }

  /** `undefined` when the document does not parse, or the operation is not in it or ambiguous: Apollo answers those. */
  digest(query: string, operationName: string | undefined, variables: Readonly<Record<string, unknown>> | undefined): string | undefined {
    const shape = this.shapeOf(query);
    if (shape === undefined) return undefined;
    const declared = shape.variables.get(operationName ?? '');
    if (declared === undefined) return undefined;
    // No prototype: on a plain object, `used['__proto__'] = …` would set the prototype instead of
    // a member, and `$__proto__`'s value would be left out of the key (one answer for every value).
    const used = Object.create(null) as Record<string, unknown>;
    for (const name of declared) if (variables !== undefined && Object.hasOwn(variables, name)) used[name] = variables[name];
    // Recursive: variables reach it bounded in depth (the GraphQL route refuses deeper ones first).
    return createHash('sha1').update(`${shape.digest}\0${operationName ?? ''}\0${canonicalJson(used)}`).digest('base64url');
  }

  private shapeOf(query: string): DocumentShape | undefined {
    const known = this.shapes.get(query);
    if (known !== undefined) return known === false ? undefined : known;
    let shape: DocumentShape | false = false;
    try {
      const document = parse(query, { noLocation: true, maxTokens: this.options.maxTokens });
      const variables = new Map<string, string[]>();
      const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
      for (const operation of operations) {
        const names = (operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value);
        variables.set(operation.name?.value ?? '', names);
        if (operations.length === 1) variables.set('', names);
      }
      shape = { digest: createHash('sha1').update(stripIgnoredCharacters(query)).digest('base64url'), variables };
    } catch {
      // Unparsable: remembered as such, so that a repeated bad document is not parsed again.
    }
    this.shapes.set(query, shape);
    return shape === false ? undefined : shape;
  }
}
