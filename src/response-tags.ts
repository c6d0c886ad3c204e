import { getNamedType, type GraphQLResolveInfo } from 'graphql';

import { CacheTags } from './cache/cache-tags';

/**
 * What a resolved field shows, as cache tags, so that invalidating an entity evicts every cached
 * response that contains it: the entities in the result (a User, a Signal, a Price) and, for
 * lists and aggregates, what the arguments selected (the signal lists of EUR_USD), since a new
 * member must evict a list that did not contain it yet.
 */
export function tagEntities(info: GraphQLResolveInfo, source: unknown, args: Record<string, unknown>, result: unknown): string[] {
  const tags: string[] = [];
  const symbols = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const coordinate = `${info.parentType.name}.${info.fieldName}`;
  switch (coordinate) {
    case 'Query.signals':
      tags.push(typeof args.symbol === 'string' ? CacheTags.signals(args.symbol) : CacheTags.allSignalLists());
      break;
    case 'Query.latestSignals':
      tags.push(...symbols(args.symbols).map(CacheTags.signals));
      break;
    case 'Query.signalStatistics':
      tags.push(...symbols(args.symbol).map(CacheTags.signals));
      break;
    case 'Query.price':
    case 'Query.candles':
      tags.push(...symbols(args.symbol).map(CacheTags.market));
      break;
    case 'Query.prices':
      tags.push(...symbols(args.symbols).map(CacheTags.market));
      break;
    case 'User.signals':
    case 'User.statistics':
      if (isRecord(source) && typeof source.id === 'number') tags.push(CacheTags.userSignals(source.id));
      break;
    default:
      break;
  }
  const type = getNamedType(info.returnType).name;
  for (const item of Array.isArray(result) ? result : [result]) {
    if (!isRecord(item)) continue;
    if (type === 'User' && typeof item.id === 'number') tags.push(CacheTags.user(item.id));
    if (type === 'Signal' && typeof item.id === 'number') tags.push(CacheTags.signal(item.id), ...symbols(item.symbol).map(CacheTags.signals));
    if (type === 'Price') tags.push(...symbols(item.symbol).map(CacheTags.market));
  }
  return tags;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}
