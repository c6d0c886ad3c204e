import { CacheTags } from '../cache/cache-tags';
import type { Timeframe } from '../market/instruments';
import type { SignalDirection, SignalRecord, SignalStatus } from './signal.model';

/** A paged list of signals: the filter that selects its members (all given ones must match). */
export interface SignalList {
  readonly symbol?: string | undefined;
  readonly timeframe?: Timeframe | undefined;
  readonly status?: SignalStatus | undefined;
  readonly direction?: SignalDirection | undefined;
  readonly authorId?: number | undefined;
}

/**
 * The canonical name of a list: its five filter fields in a fixed order (symbol, timeframe,
 * status, direction, author), joined by `/`, with `*` for an open one. It names the list's cache
 * entries and tags, and its cursors carry it.
 */
export function signalListKey(list: SignalList): string {
  return [list.symbol, list.timeframe, list.status, list.direction, list.authorId].map((part) => (part === undefined ? '*' : String(part))).join('/');
}

/** The tags of a list's pages and count: its name, and its author when it selects one. */
export function signalListTags(list: SignalList): string[] {
  const named = CacheTags.signalList(signalListKey(list));
  return list.authorId === undefined ? [named] : [named, CacheTags.authorSignalLists(list.authorId)];
}

/**
 * Every list whose membership a signal write changes, by name: each combination of the signal's
 * symbol, timeframe, direction and author with `*` (2^4), for each status given (a value or `*`).
 * A new signal enters the lists of ACTIVE and `*`; a status change leaves the lists of its old
 * status and enters those of the new one, while the lists open on status keep the same members.
 * So a write evicts 32 lists of pages and counts, and no other list: another instrument's pages,
 * or another status's, stay cached.
 */
export function listsChangedBy(signal: Pick<SignalRecord, 'symbol' | 'timeframe' | 'direction' | 'userId'>, statuses: readonly (SignalStatus | undefined)[]): string[] {
  const lists: string[] = [];
  for (let mask = 0; mask < 16; mask += 1) {
    const pick = <T>(bit: number, value: T) => ((mask & bit) === 0 ? undefined : value);
    for (const status of statuses) {
      lists.push(signalListKey({
        symbol: pick(1, signal.symbol),
        timeframe: pick(2, signal.timeframe),
        direction: pick(4, signal.direction),
        authorId: pick(8, signal.userId),
        status,
      }));
    }
  }
  return lists;
}

/** One page of a list, as cached and served: Relay's edges and page info. */
export interface SignalPage {
  readonly edges: readonly { readonly cursor: string; readonly node: SignalRecord }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}
