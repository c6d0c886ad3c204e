import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';

import type { ResponsePolicy } from './graphql/response-cache/cache-policy';
import type { StaleReads, StaleSink } from './graphql/stale-reads';
import type { Quote } from './market/market-data.provider';
import type { MarketLive } from './market/market.live';
import type { MarketService } from './market/market.service';
import type { Viewer } from './sessions/viewer';
import type { SignalAggregate, SignalRecord } from './signals/signal.model';
import type { SignalEvents } from './signals/signal-events';
import type { SignalsService } from './signals/signals.service';
import type { UserRecord } from './users/user.model';
import type { UsersService } from './users/users.service';

/**
 * Per-request batching. Each loader turns the field resolutions of one tick into one service call;
 * its memo lives only as long as the request (the shared cache is a separate layer).
 */
export interface Loaders {
  readonly user: DataLoader<number, UserRecord | null>;
  readonly signal: DataLoader<number, SignalRecord | null>;
  readonly userStatistics: DataLoader<number, SignalAggregate>;
  /** Stale-if-error: a quote served from its last-known copy is marked in the request's StaleReads. */
  readonly quote: DataLoader<string, Quote | null>;
  /** One loader per page size, so `signals(limit: 5)` and `signals(limit: 20)` batch separately. */
  signalsOfUser(limit: number): DataLoader<number, SignalRecord[]>;
}

/** What subscription fields need to describe their events (set only in the live transports' contexts). */
export interface LiveSources {
  readonly market: MarketLive;
  readonly signals: SignalEvents;
  /** SSE's Last-Event-ID, or graphql-ws's `extensions.lastEventId`: where a resuming field starts. */
  readonly lastEventId: string | undefined;
}

/** The live sources of a subscription's context; a subscription reached outside the live transports is refused. */
export function liveSources(context: unknown): LiveSources {
  const live = (context as RequestContext).live;
  if (live === undefined) throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) or SSE (/graphql/stream)', { extensions: { code: 'BAD_REQUEST' } });
  return live;
}

export interface RequestContext {
  readonly viewer: Viewer;
  /** Also in the `x-request-id` header and in every log line about this request. */
  readonly requestId: string;
  readonly loaders: Loaders;
  /** Values served stale in this request; resolvers note where they show them (`extensions.stale`). */
  readonly staleReads: StaleReads;
  /** Filled during execution: whether and how long the response may be cached, and what it shows. */
  readonly responsePolicy?: ResponsePolicy;
  readonly live?: LiveSources;
}

export interface LoaderServices {
  readonly users: UsersService;
  readonly signals: SignalsService;
  readonly market: MarketService;
}

export function createLoaders(services: LoaderServices, stale: StaleSink): Loaders {
  const signalsOfUser = new Map<number, DataLoader<number, SignalRecord[]>>();
  return {
    user: new DataLoader((ids) => services.users.getUsers(ids)),
    signal: new DataLoader((ids) => services.signals.getSignals(ids)),
    userStatistics: new DataLoader((ids) => services.signals.statisticsForUsers(ids)),
    quote: new DataLoader<string, Quote | null>((symbols) => services.market.readQuotes(symbols, stale)),
    signalsOfUser(limit) {
      let loader = signalsOfUser.get(limit);
      if (loader === undefined) {
        loader = new DataLoader((ids) => services.signals.latestByUsers(ids, limit));
        signalsOfUser.set(limit, loader);
      }
      return loader;
    },
  };
}
