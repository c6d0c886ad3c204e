import { getNamedType } from 'graphql';

import type { EntityTags, FieldTags, ShownTags } from '../../cache/cache-tags';
import type { EntityTagger } from './cache-policy';

/**
 * What a resolved field shows, as cache tags, from the features' declarations (see ShownTags),
 * so that invalidating an entity evicts every cached response that contains it: the tags its
 * coordinate declares plus those of each object it returned, by type. The composition root
 * passes every feature's declarations; this mechanism knows none itself.
 */
export function entityTagger(declarations: readonly ShownTags[]): EntityTagger {
  const fields = new Map<string, FieldTags>();
  const types = new Map<string, EntityTags>();
  for (const declaration of declarations) {
    for (const [coordinate, tags] of Object.entries(declaration.fields ?? {})) declareOnce(fields, coordinate, tags);
    for (const [type, tags] of Object.entries(declaration.types ?? {})) declareOnce(types, type, tags);
  }
  return (info, source, args, result) => {
    const tags = [...(fields.get(`${info.parentType.name}.${info.fieldName}`)?.(args, source, result) ?? [])];
    const ofEntity = types.get(getNamedType(info.returnType).name);
    if (ofEntity !== undefined) {
      for (const item of Array.isArray(result) ? result : [result]) if (item !== null && typeof item === 'object') tags.push(...ofEntity(item as Record<string, unknown>));
    }
    return tags;
  };
}

function declareOnce<T>(declared: Map<string, T>, name: string, value: T): void {
  if (declared.has(name)) throw new Error(`cache tags of ${name} are declared twice`);
  declared.set(name, value);
}
