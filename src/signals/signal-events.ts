import type { EventLog } from '../live/event-log';
import { LiveInterest } from '../live/live-interest';
import type { SignalRecord } from './signal.model';

export const SIGNAL_EVENT_KINDS = ['CREATED', 'STATUS_CHANGED', 'GAP'] as const;
export type SignalEventKind = (typeof SIGNAL_EVENT_KINDS)[number];

/** A signal event as the event log keeps it (JSON: dates as text). */
export interface SignalEventData {
  readonly kind: Exclude<SignalEventKind, 'GAP'>;
  readonly signal: Omit<SignalRecord, 'createdAt' | 'updatedAt'> & { readonly createdAt: string; readonly updatedAt: string };
  readonly occurredAt: string;
}

/** What the `signalEvents` field resolves from: an event with its log id, or the news of a gap. */
export type SignalEventRoot =
  | (SignalEventData & { readonly id: string })
  | { readonly kind: 'GAP'; readonly id: string; readonly message: string; readonly occurredAt: string };

export interface SignalEventFilter {
  readonly symbols?: readonly string[] | null | undefined;
  readonly authorId?: number | null | undefined;
  /** Resume after this event id (or the SSE Last-Event-ID). */
  readonly after?: string | null | undefined;
}

/**
 * Signal events, in a replayable log shared by the fleet (EventLog). SignalsService publishes one
 * after a write has committed and its invalidation has been applied, so that a client that
 * re-reads on an event reads the new state.
 */
export class SignalEvents {
  constructor(private readonly log: EventLog) {}

  async published(kind: SignalEventData['kind'], signal: SignalRecord): Promise<void> {
    const data: SignalEventData = { kind, signal: { ...signal, createdAt: signal.createdAt.toISOString(), updatedAt: signal.updatedAt.toISOString() }, occurredAt: new Date().toISOString() };
    await this.log.append(data);
  }

  interest(filter: SignalEventFilter, lastEventId: string | undefined): LiveInterest {
    const symbols = filter.symbols === undefined || filter.symbols === null ? undefined : new Set(filter.symbols);
    const authorId = filter.authorId ?? undefined;
    const after = filter.after ?? lastEventId;
    return new LiveInterest([this.log.topic], {
      accepts: (data) => {
        const { signal } = data as SignalEventData;
        return (symbols === undefined || symbols.has(signal.symbol)) && (authorId === undefined || signal.userId === authorId);
      },
      ...(after === undefined
        ? {}
        : { resume: { log: this.log, after, gap: (message: string): SignalEventRoot => ({ kind: 'GAP', id: after, message, occurredAt: new Date().toISOString() }) } }),
    });
  }
}

/** The record back from its JSON form. */
export function reviveSignal(signal: SignalEventData['signal']): SignalRecord {
  return { ...signal, createdAt: new Date(signal.createdAt), updatedAt: new Date(signal.updatedAt) };
}
