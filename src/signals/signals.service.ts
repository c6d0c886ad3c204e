import { CacheDatabaseQuery, type CachingHost } from '../cache/cache-decorators';
import type { CacheInvalidator } from '../cache/cache-invalidator';
import type { CacheKeys } from '../cache/cache-keys';
import { CacheTags } from '../cache/cache-tags';
import type { CacheService } from '../cache/cache.service';
import { badInput, forbidden, notFound, unauthenticated } from '../errors';
import { writeCursor } from '../graphql/connection/keyset-cursor';
import type { PageRequest } from '../graphql/connection/page-args';
import type { Timeframe } from '../market/instruments';
import type { Viewer } from '../sessions/viewer';
import type { UsersRepository } from '../users/users.repository';
import { EMPTY_AGGREGATE, type SignalAggregate, type SignalDirection, type SignalFilter, type SignalRecord, type SignalStatus, statusChangeRefusal } from './signal.model';
import { listsChangedBy, type SignalList, signalListKey, signalListTags, type SignalPage } from './signal-list';
import type { PageRows, SignalsRepository } from './signals.repository';

export interface CreateSignalCommand {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly direction: SignalDirection;
  readonly entryPrice: number;
  readonly stopLoss?: number | undefined;
  readonly takeProfit?: number | undefined;
  readonly confidence: number;
  /** Admins create signals on behalf of a user; a session's user is always the author. */
  readonly userId?: number | undefined;
}

/**
 * Signal reads go through the cache under keys an invalidation can find: `signals:id:{id}`,
 * `signals:{symbol}:…` (lists, latest, statistics), `signals:all:…` (lists across instruments)
 * and `users:{id}:signals:…` / `users:{id}:statistics` (per author). Writes evict exactly those.
 */
export class SignalsService implements CachingHost {
  /** The instruments the market-data feed lists: a signal on any other could never be priced. */
  private readonly instruments: ReadonlySet<string>;

  constructor(
    private readonly signals: SignalsRepository,
    private readonly users: UsersRepository,
    readonly cache: CacheService,
    readonly cacheKeys: CacheKeys,
    private readonly invalidator: CacheInvalidator,
    instruments: Iterable<string>,
    /** Told of each write once it has committed and its invalidation has been applied (live subscribers). */
    private readonly events?: { published(kind: 'CREATED' | 'STATUS_CHANGED', signal: SignalRecord): Promise<void> },
  ) {
    this.instruments = new Set(instruments);
  }

  getSignals(ids: readonly number[]): Promise<(SignalRecord | null)[]> {
    // Tagged with the instrument, which the key does not name: the operator's SIGNALS scope reaches it.
    const tagsOf = (signal: SignalRecord) => [CacheTags.signalOf(signal.symbol)];
    return this.cache.getManyOrLoad(ids, (id) => this.cacheKeys.signals('id', id), (missing) => this.signals.findByIds(missing), this.cache.ttl.medium, tagsOf);
  }

  @CacheDatabaseQuery({ key: (keys: CacheKeys, filter: SignalFilter) => keys.signals(filter.symbol ?? 'all', 'list', keys.hash(filter)) })
  listSignals(filter: SignalFilter): Promise<SignalRecord[]> {
    return this.signals.find(filter);
  }

  /**
   * One page of a list, read by keyset (see SignalsRepository.findPage) and cached under the
   * list's tag and its members' tags: a write evicts it when the signal enters or leaves the list
   * (listsChangedBy) or when a signal it shows changes.
   */
  pageSignals(list: SignalList, request: PageRequest): Promise<SignalPage> {
    const name = signalListKey(list);
    const from = request.from === undefined ? null : { micros: request.from.micros.toString(), id: request.from.id };
    return this.cache.getOrSet(
      this.cacheKeys.signalPage(name, { direction: request.direction, size: request.size, from }),
      async () => toPage(await this.signals.findPage(list, request), request, name),
      this.cache.ttl.medium,
      (page) => [...listTags(list), ...page.edges.map((edge) => CacheTags.signal(edge.node.id))],
    );
  }

  /** How many signals a list holds; cached under the list's tag, like its pages. */
  countSignals(list: SignalList): Promise<number> {
    const name = signalListKey(list);
    return this.cache.getOrSet(this.cacheKeys.signalCount(name), () => this.signals.count(list), this.cache.ttl.medium, () => listTags(list));
  }

  async latestBySymbols(symbols: readonly string[], perSymbol: number): Promise<SignalRecord[][]> {
    const lists = await this.cache.getManyOrLoad(
      symbols,
      (symbol) => this.cacheKeys.signals(symbol, 'latest', perSymbol),
      (missing) => this.signals.findLatestBySymbols(missing, perSymbol),
      this.cache.ttl.medium,
    );
    return lists.map((list) => list ?? []);
  }

  async latestByUsers(userIds: readonly number[], perUser: number): Promise<SignalRecord[][]> {
    const lists = await this.cache.getManyOrLoad(
      userIds,
      (id) => this.cacheKeys.user(id, `signals:${perUser}`),
      (missing) => this.signals.findLatestByUserIds(missing, perUser),
      this.cache.ttl.medium,
      (_list, id) => CacheTags.withUmbrella(CacheTags.userSignals(id)),
    );
    return lists.map((list) => list ?? []);
  }

  @CacheDatabaseQuery({ ttl: 'long', key: (keys: CacheKeys, symbol: string) => keys.signals(symbol, 'statistics') })
  statisticsForSymbol(symbol: string): Promise<SignalAggregate> {
    return this.signals.statisticsBySymbol(symbol);
  }

  async statisticsForUsers(userIds: readonly number[]): Promise<SignalAggregate[]> {
    const stats = await this.cache.getManyOrLoad(
      userIds,
      (id) => this.cacheKeys.user(id, 'statistics'),
      (missing) => this.signals.statisticsByUserIds(missing),
      this.cache.ttl.long,
      (_aggregate, id) => CacheTags.withUmbrella(CacheTags.userSignals(id)),
    );
    return stats.map((aggregate) => aggregate ?? EMPTY_AGGREGATE);
  }

  async createSignal(viewer: Viewer, command: CreateSignalCommand): Promise<SignalRecord> {
    const userId = await this.authorFor(viewer, command.userId);
    if (!this.instruments.has(command.symbol)) {
      throw badInput(`symbol ${command.symbol} is not an instrument the market-data feed lists`, { field: 'symbol' });
    }
    assertCoherentLevels(command);
    const created = await this.signals.insert({
      userId,
      symbol: command.symbol,
      timeframe: command.timeframe,
      direction: command.direction,
      entryPrice: command.entryPrice,
      stopLoss: command.stopLoss ?? null,
      takeProfit: command.takeProfit ?? null,
      confidence: command.confidence,
    });
    await this.evictDerivedFrom(created, [undefined, created.status]);
    await this.events?.published('CREATED', created);
    return created;
  }

  /** An ACTIVE signal moves once to a final status (see statusChangeRefusal); the author and admins may move it. */
  async updateStatus(viewer: Viewer, id: number, status: SignalStatus): Promise<SignalRecord> {
    if (viewer.kind === 'anonymous') throw unauthenticated();
    const [signal] = await this.signals.findByIds([id]);
    if (signal === null || signal === undefined) throw notFound(`Signal ${id}`);
    if (viewer.kind === 'user' && viewer.userId !== signal.userId) throw forbidden('Only the author or an admin may change this signal');
    assertStatusChange(id, signal.status, status);
    const updated = await this.signals.updateStatus(id, signal.status, status);
    if (updated === null) {
      // Another change came first (or the signal went): judge this one against what is there now.
      const [now] = await this.signals.findByIds([id]);
      if (now === null || now === undefined) throw notFound(`Signal ${id}`);
      assertStatusChange(id, now.status, status);
      throw badInput(`Signal ${id} changed status while this change was made; try again`);
    }
    await this.evictDerivedFrom(updated, [signal.status, updated.status]);
    await this.events?.published('STATUS_CHANGED', updated);
    return updated;
  }

  /**
   * Everything a new or changed signal appears in: itself (and a "no such signal" for its id), its
   * instrument's lists and statistics, cross-instrument lists, its author's lists and statistics,
   * and the paged lists of `statuses` it belongs to (a new one: ACTIVE and any status; a changed
   * one: its old status and its new one).
   */
  private async evictDerivedFrom(signal: SignalRecord, statuses: readonly (SignalStatus | undefined)[]): Promise<void> {
    await this.invalidator.invalidateSignalWrite(signal, listsChangedBy(signal, statuses));
  }

  private async authorFor(viewer: Viewer, requestedUserId: number | undefined): Promise<number> {
    switch (viewer.kind) {
      case 'anonymous':
        throw unauthenticated();
      case 'user':
        if (requestedUserId !== undefined && requestedUserId !== viewer.userId) {
          throw forbidden('A session creates signals for its own user only');
        }
        return viewer.userId;
      case 'admin': {
        if (requestedUserId === undefined) throw badInput('userId is required when an admin creates a signal', { field: 'userId' });
        const [user] = await this.users.findByIds([requestedUserId]);
        if (user === null || user === undefined) throw notFound(`User ${requestedUserId}`);
        return requestedUserId;
      }
    }
  }
}

/** A list's data entries: its tags, with the name's umbrella that the signals scope evicts. */
function listTags(list: SignalList): string[] {
  const [named, ...rest] = signalListTags(list);
  return [...CacheTags.withUmbrella(named!), ...rest];
}

/** Rows of a page as Relay edges, with cursors of the list `name`; the page info in Relay's terms for the paging direction. */
function toPage(found: PageRows, request: PageRequest, name: string): SignalPage {
  const edges = found.rows.map((row) => ({ cursor: writeCursor({ micros: BigInt(row.micros), id: row.signal.id }, name), node: row.signal }));
  const forward = request.direction === 'forward';
  return {
    edges,
    pageInfo: {
      hasNextPage: forward ? found.more : found.beyond,
      hasPreviousPage: forward ? found.beyond : found.more,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

function assertStatusChange(id: number, from: SignalStatus, to: SignalStatus): void {
  const refusal = statusChangeRefusal(from, to);
  if (refusal !== null) throw badInput(`Signal ${id} cannot become ${to}: ${refusal}`, { field: 'status' });
}

/** A BUY's stop sits below its entry and its target above; a SELL's the other way round. */
function assertCoherentLevels(command: CreateSignalCommand): void {
  const below = (level: number | undefined) => level === undefined || level < command.entryPrice;
  const above = (level: number | undefined) => level === undefined || level > command.entryPrice;
  const coherent = command.direction === 'BUY'
    ? below(command.stopLoss) && above(command.takeProfit)
    : above(command.stopLoss) && below(command.takeProfit);
  if (!coherent) {
    throw badInput(
      command.direction === 'BUY'
        ? 'For a BUY signal, stopLoss must be below entryPrice and takeProfit above it'
        : 'For a SELL signal, stopLoss must be above entryPrice and takeProfit below it',
    );
  }
}
