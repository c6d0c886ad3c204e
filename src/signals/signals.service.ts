import { badInput, forbidden, notFound, unauthenticated } from '../errors';
import type { Timeframe } from '../market/instruments';
import type { Viewer } from '../sessions/viewer';
import type { UsersRepository } from '../users/users.repository';
import type { SignalAggregate, SignalDirection, SignalFilter, SignalRecord, SignalStatus } from './signal.model';
import type { SignalsRepository } from './signals.repository';

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

export class SignalsService {
  constructor(
    private readonly signals: SignalsRepository,
    private readonly users: UsersRepository,
  ) {}

  getSignals(ids: readonly number[]): Promise<(SignalRecord | null)[]> {
    return this.signals.findByIds(ids);
  }

  listSignals(filter: SignalFilter): Promise<SignalRecord[]> {
    return this.signals.find(filter);
  }

  latestBySymbols(symbols: readonly string[], perSymbol: number): Promise<SignalRecord[][]> {
    return this.signals.findLatestBySymbols(symbols, perSymbol);
  }

  latestByUsers(userIds: readonly number[], perUser: number): Promise<SignalRecord[][]> {
    return this.signals.findLatestByUserIds(userIds, perUser);
  }

  statisticsForSymbol(symbol: string): Promise<SignalAggregate> {
    return this.signals.statisticsBySymbol(symbol);
  }

  statisticsForUsers(userIds: readonly number[]): Promise<SignalAggregate[]> {
    return this.signals.statisticsByUserIds(userIds);
  }

  async createSignal(viewer: Viewer, command: CreateSignalCommand): Promise<SignalRecord> {
    const userId = await this.authorFor(viewer, command.userId);
    assertCoherentLevels(command);
    return this.signals.insert({
      userId,
      symbol: command.symbol,
      timeframe: command.timeframe,
      direction: command.direction,
      entryPrice: command.entryPrice,
      stopLoss: command.stopLoss ?? null,
      takeProfit: command.takeProfit ?? null,
      confidence: command.confidence,
    });
  }

  /** Only ACTIVE signals change status; the author and admins may change it. */
  async updateStatus(viewer: Viewer, id: number, status: SignalStatus): Promise<SignalRecord> {
    if (viewer.kind === 'anonymous') throw unauthenticated();
    const [signal] = await this.signals.findByIds([id]);
    if (signal === null || signal === undefined) throw notFound(`Signal ${id}`);
    if (viewer.kind === 'user' && viewer.userId !== signal.userId) throw forbidden('Only the author or an admin may change this signal');
    if (signal.status !== 'ACTIVE' && signal.status !== status) {
      throw badInput(`Signal ${id} is ${signal.status}; only ACTIVE signals can change status`);
    }
    const updated = await this.signals.updateStatus(id, status);
    if (updated === null) throw notFound(`Signal ${id}`);
    return updated;
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
