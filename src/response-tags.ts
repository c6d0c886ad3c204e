import { getNamedType, type GraphQLResolveInfo } from 'graphql';

import { CacheTags, type EntityTags, type FieldTags, type ShownTags, stringsOf } from './cache/cache-tags';
import { SIGNAL_TAGS } from './signals/signal.resolver';
import { USER_TAGS } from './users/user.resolver';

/**
 * The market feature's declarations. They belong beside MarketResolver, like USER_TAGS and
 * SIGNAL_TAGS beside theirs; they stay here until src/market/ takes them over.
 */
const MARKET_TAGS: ShownTags = {
  fields: {
    'Query.price': (args) => stringsOf(args.symbol).map(CacheTags.market),
    'Query.candles': (args) => stringsOf(args.symbol).map(CacheTags.market),
    'Query.prices': (args) => stringsOf(args.symbols).map(CacheTags.market),
  },
  types: { Price: (price) => stringsOf(price.symbol).map(CacheTags.market) },
};

/**
 * Applies the features' declarations (see ShownTags): the tags of a resolved field are those its
 * coordinate declares plus those of each object it returned, by type.
 */
export function tagsFrom(declarations: readonly ShownTags[]): (info: GraphQLResolveInfo, source: unknown, args: Record<string, unknown>, result: unknown) => string[] {
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

/** What a resolved field shows, as cache tags, so that invalidating an entity evicts every cached response that contains it. */
export const tagEntities = tagsFrom([USER_TAGS, SIGNAL_TAGS, MARKET_TAGS]);

function declareOnce<T>(declared: Map<string, T>, name: string, value: T): void {
  if (declared.has(name)) throw new Error(`cache tags of ${name} are declared twice`);
  declared.set(name, value);
}
