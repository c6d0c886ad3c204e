import { readFileSync } from 'node:fs';

import type { DocumentCheck } from './document-check';
import { type DocumentId, documentIdOf } from './document-id';

/**
 * Reads persisted-document manifests into one id → text map, and refuses to start on anything
 * that would make an id ambiguous or a document fail later. Two formats:
 *   GraphQL Code Generator's client preset: `{ "<sha256>": "<document>" , … }`;
 *   Apollo's: `{ "format": "apollo-persisted-query-manifest", "version": 1,
 *               "operations": [{ "id", "body", "name", "type" }, …] }`.
 * Each id must be the SHA-256 of its text (so an id on the wire names exactly one text, whichever
 * manifest or client it came from), an id may not stand for two texts across manifests, and each
 * document must pass `check` (it parses, and passes the schema's validation and the query limits):
 * a bad manifest is found at deploy time, naming the id and the error, not by a client at run time.
 */
export function loadManifests(paths: readonly string[], check: DocumentCheck): ReadonlyMap<DocumentId, string> {
  const documents = new Map<DocumentId, string>();
  for (const path of paths) {
    for (const [id, text] of entriesOf(path)) {
      const fail = (why: string) => new ManifestError(`persisted document ${id} in ${path}: ${why}`);
      if (!/^[0-9a-f]{64}$/.test(id)) throw fail('the id is not a sha256 in lower-case hex');
      if (documentIdOf(text) !== id) throw fail('the id is not the SHA-256 of its text');
      const known = documents.get(id);
      if (known !== undefined && known !== text) throw fail('the id is given to another text too');
      const problem = check(text);
      if (problem !== undefined) throw fail(problem);
      documents.set(id, text);
    }
  }
  return documents;
}

function entriesOf(path: string): [string, string][] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ManifestError(`persisted documents ${path}: cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) throw new ManifestError(`persisted documents ${path}: not a manifest object`);
  const record = manifest as Record<string, unknown>;
  if (record.format === 'apollo-persisted-query-manifest') {
    if (record.version !== 1 || !Array.isArray(record.operations)) throw new ManifestError(`persisted documents ${path}: an Apollo manifest must have version 1 and an operations list`);
    return record.operations.map((operation: unknown, index) => {
      const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string' || typeof body !== 'string') throw new ManifestError(`persisted documents ${path}: operation ${index} needs a string id and body`);
      return [id, body];
    });
  }
  return Object.entries(record).map(([id, body]) => {
    if (typeof body !== 'string') throw new ManifestError(`persisted documents ${path}: the document of ${id} is not a string`);
    return [id, body];
  });
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}
