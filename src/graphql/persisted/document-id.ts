import { createHash } from 'node:crypto';

/**
 * A persisted document's id: the SHA-256 of its text, as 64 lower-case hex digits. On the wire it
 * comes as GraphQL-over-HTTP's `documentId` (`sha256:<hex>` or bare hex) or as Apollo's
 * `extensions.persistedQuery` (`{ version: 1, sha256Hash }`).
 */
export type DocumentId = string;

const HEX_64 = /^[0-9a-f]{64}$/i;

export function documentIdOf(text: string): DocumentId {
  return createHash('sha256').update(text).digest('hex');
}

/** The id in a `documentId` parameter, or why it is not one. */
export function parseDocumentId(value: unknown): DocumentId | { readonly invalid: string } {
  if (typeof value !== 'string') return { invalid: 'documentId must be a string' };
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  return HEX_64.test(hex) ? hex.toLowerCase() : { invalid: 'documentId must be sha256:<64 hex digits> or 64 hex digits' };
}

/** The id in Apollo's `persistedQuery` extension, or why it is not one. */
export function parsePersistedQuery(value: unknown): DocumentId | { readonly invalid: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { invalid: 'extensions.persistedQuery must be an object' };
  const { version, sha256Hash } = value as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1) return { invalid: 'extensions.persistedQuery.version must be 1' };
  if (typeof sha256Hash !== 'string' || !HEX_64.test(sha256Hash)) return { invalid: 'extensions.persistedQuery.sha256Hash must be 64 hex digits' };
  return sha256Hash.toLowerCase();
}
