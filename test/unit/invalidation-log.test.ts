import { InvalidationLog } from '../../src/cache/invalidation-log';

describe('InvalidationLog: what a load that began at a mark may still write back', () => {
  it('refuses only what an invalidation since the mark would have removed', () => {
    const log = new InvalidationLog();
    const mark = log.mark;
    log.record({ kind: 'tags', tags: ['Market:EUR_USD'] });
    log.record({ kind: 'keys', keys: ['user:7'] });
    log.record({ kind: 'pattern', pattern: 'signals:EUR\\_USD:*' });

    expect(log.changedSince(mark, 'resp:board', ['Market:EUR_USD', 'Signal:1'])).toBe(true);
    expect(log.changedSince(mark, 'user:7')).toBe(true);
    expect(log.changedSince(mark, 'signals:EUR_USD:page:1')).toBe(true);
    // Loads of other entries spanned these invalidations, and are still good to write.
    expect(log.changedSince(mark, 'resp:profile', ['User:7x', 'Market:GBP_USD'])).toBe(false);
    expect(log.changedSince(mark, 'user:70')).toBe(false);
    expect(log.changedSince(mark, 'signals:GBP_USD:page:1')).toBe(false);
  });

  it('looks only at invalidations after the mark, batches included', () => {
    const log = new InvalidationLog();
    log.record({ kind: 'keys', keys: ['user:7'] });
    const mark = log.mark;
    expect(log.changedSince(mark, 'user:7')).toBe(false);
    log.record({ kind: 'batch', parts: [{ kind: 'keys', keys: ['a'] }, { kind: 'tags', tags: ['T'] }] });
    expect(log.changedSince(mark, 'user:7')).toBe(false);
    expect(log.changedSince(mark, 'a')).toBe(true);
    expect(log.changedSince(mark, 'b', ['T'])).toBe(true);
  });

  it('treats a reset, and a mark older than what it keeps, as covering everything', () => {
    const log = new InvalidationLog();
    const beforeReset = log.mark;
    log.record('reset');
    expect(log.changedSince(beforeReset, 'anything')).toBe(true);

    const old = log.mark;
    for (let i = 0; i < 2_000; i += 1) log.record({ kind: 'keys', keys: [`k${i}`] });
    expect(log.changedSince(old, 'unrelated')).toBe(true);
    const recent = log.mark;
    log.record({ kind: 'keys', keys: ['k'] });
    expect(log.changedSince(recent, 'unrelated')).toBe(false);
  });
});
