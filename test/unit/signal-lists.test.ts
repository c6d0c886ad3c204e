import { readCursor, writeCursor } from '../../src/graphql/connection/keyset-cursor';
import { pageRequestOf } from '../../src/graphql/connection/page-args';
import { listsChangedBy, type SignalList, signalListKey } from '../../src/signals/signal-list';
import type { SignalStatus } from '../../src/signals/signal.model';

const signal = { symbol: 'EUR_USD', timeframe: 'H1', direction: 'BUY', userId: 5 } as const;

/** Every list over a small domain that includes the signal's values, other values, and open fields. */
function everyList(): SignalList[] {
  const lists: SignalList[] = [];
  for (const symbol of ['EUR_USD', 'GBP_USD', undefined])
    for (const timeframe of ['H1', 'M5', undefined] as const)
      for (const status of ['ACTIVE', 'EXECUTED', 'EXPIRED', 'CANCELLED', undefined] as const)
        for (const direction of ['BUY', 'SELL', undefined] as const)
          for (const authorId of [5, 6, undefined]) lists.push({ symbol, timeframe, status, direction, authorId });
  return lists;
}

const holds = (list: SignalList, status: SignalStatus): boolean =>
  (list.symbol ?? signal.symbol) === signal.symbol &&
  (list.timeframe ?? signal.timeframe) === signal.timeframe &&
  (list.direction ?? signal.direction) === signal.direction &&
  (list.authorId ?? signal.userId) === signal.userId &&
  (list.status ?? status) === status;

describe('which paged lists a signal write changes', () => {
  it('a new signal: exactly the lists that hold it now (and held nothing of it before)', () => {
    const changed = new Set(listsChangedBy(signal, [undefined, 'ACTIVE']));
    expect(changed.size).toBe(32);
    for (const list of everyList()) expect([signalListKey(list), changed.has(signalListKey(list))]).toEqual([signalListKey(list), holds(list, 'ACTIVE')]);
  });

  it('a status change: exactly the lists that held it before and not after, or after and not before', () => {
    const changed = new Set(listsChangedBy(signal, ['ACTIVE', 'EXECUTED']));
    expect(changed.size).toBe(32);
    for (const list of everyList()) {
      expect([signalListKey(list), changed.has(signalListKey(list))]).toEqual([signalListKey(list), holds(list, 'ACTIVE') !== holds(list, 'EXECUTED')]);
    }
  });

  it('names a list by its five filters in a fixed order, open ones as *', () => {
    expect(signalListKey({})).toBe('*/*/*/*/*');
    expect(signalListKey({ authorId: 7, symbol: 'EUR_USD', status: 'ACTIVE' })).toBe('EUR_USD/*/ACTIVE/*/7');
  });
});

describe('keyset cursors', () => {
  const list = 'EUR_USD/*/*/*/*';

  it('give back the exact position they were written with, to the microsecond', () => {
    const position = { micros: 1_795_742_349_276_123n, id: 2_147_483_647 };
    const cursor = writeCursor(position, list);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]{31}$/);
    expect(readCursor(cursor, list, 'after')).toEqual(position);
  });

  it('are refused for another list, naming the argument', () => {
    const cursor = writeCursor({ micros: 1n, id: 1 }, list);
    expect(() => readCursor(cursor, 'GBP_USD/*/*/*/*', 'before')).toThrow('before is not a cursor of this list: it belongs to another list (other filters)');
  });

  it('are refused when any byte changed', () => {
    const cursor = writeCursor({ micros: 1_795_742_349_276_123n, id: 42 }, list);
    const bytes = Buffer.from(cursor, 'base64url');
    for (let index = 0; index < bytes.length; index += 1) {
      const edited = Buffer.from(bytes);
      edited[index] = edited[index]! ^ 0x01;
      expect(() => readCursor(edited.toString('base64url'), list, 'after')).toThrow(/not a cursor of this list/);
    }
  });
});

describe('paging arguments', () => {
  const list = '*/*/*/*/*';
  const cursor = writeCursor({ micros: 5n, id: 9 }, list);

  it('first with after pages forward; last with before pages backward; null is absent', () => {
    expect(pageRequestOf({ first: 10, after: cursor }, list)).toEqual({ direction: 'forward', size: 10, from: { micros: 5n, id: 9 } });
    expect(pageRequestOf({ last: 3, before: null, first: null }, list)).toEqual({ direction: 'backward', size: 3 });
  });

  it('refuses both sizes, neither, and a cursor of the other direction', () => {
    expect(() => pageRequestOf({ first: 1, last: 1 }, list)).toThrow('Give first or last, not both');
    expect(() => pageRequestOf({}, list)).toThrow(/Give first/);
    expect(() => pageRequestOf({ first: 1, before: cursor }, list)).toThrow(/before pages backward/);
    expect(() => pageRequestOf({ last: 1, after: cursor }, list)).toThrow(/after pages forward/);
  });
});
