import type { EventId, EventLog } from './event-log';

export interface LiveInterestOptions {
  /** Whether an event on the topics concerns this subscription (its filter arguments); all do by default. */
  readonly accepts?: (data: unknown) => boolean;
  /**
   * Events with the same key replace each other in a slow client's queue: only the latest goes
   * out (quote ticks). Events without one are queued, up to a bound (signal events).
   */
  readonly conflationKey?: (data: unknown) => string | undefined;
  /** Send what `log` holds after `after` first (a reconnecting client); `gap` is the root value of the event saying that some are lost. */
  readonly resume?: { readonly log: EventLog; readonly after: EventId; readonly gap: (reason: string) => unknown };
  /** Called when the first subscriber of a kind arrives; what it returns when the last one leaves (an upstream interest). */
  readonly retain?: () => () => void;
}

/**
 * What a subscription field's `subscribe` returns to the live transports: the topics it listens
 * to and how to treat their events, in place of graphql-js's per-subscriber async iterator. The
 * transports never iterate it: events come from the LiveBus, each executed once per distinct
 * subscription (see LiveHub). Being an AsyncIterable keeps graphql-js's createSourceEventStream
 * (argument coercion, the field's own checks) usable to obtain it.
 */
export class LiveInterest implements AsyncIterable<never> {
  constructor(
    readonly topics: readonly string[],
    readonly options: LiveInterestOptions = {},
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<never> {
    return { next: () => Promise.resolve({ done: true, value: undefined }) };
  }
}
