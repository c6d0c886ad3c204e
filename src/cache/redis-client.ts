import { Cluster, Redis, type RedisOptions } from 'ioredis';

import type { HostPort, RedisTopology } from '../config';

/** A connection to whichever topology is configured: one server (direct or found through Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  readonly topology: RedisTopology;
  readonly password: string | undefined;
  readonly db: number;
  /** Budget of one command, and of connecting (REDIS_TIMEOUT). */
  readonly timeoutMs: number;
  /** Longest wait between reconnection attempts; attempts back off exponentially up to it, with jitter. */
  readonly maxReconnectDelayMs: number;
}

/**
 * How long a connection being closed may wait for the server's side of the close before its
 * socket is destroyed (ioredis's default is 2 s). A server that is frozen or gone never answers,
 * and the wait kept a stopping process alive; one that answers does so within milliseconds.
 */
const DISCONNECT_GRACE_MS = 100;

/** Exponential backoff with jitter, so that a fleet of gateways does not reconnect in lockstep. */
export function reconnectDelayMs(attempt: number, maxMs: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), maxMs) + Math.floor(Math.random() * 100);
}

/**
 * A command connection. Settings chosen so that no command ever waits behind a dead connection:
 * a command timeout, no offline queue (a command on a connection that is not ready fails at
 * once), no retries per request and no resending after reconnect — the cache service answers
 * from memory instead, and the connection keeps reconnecting in the background.
 *
 * A Cluster client pipelines automatically: the commands of one cache operation, issued in the
 * same tick, reach each master as one write, whatever slots their keys hash to.
 */
export function createCommandClient(options: RedisConnectionOptions, connectionName: string): RedisClient {
  const { topology } = options;
  const perConnection = {
    password: options.password,
    protocol: 2,
    commandTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    disableClientInfo: true,
    connectionName,
    disconnectTimeout: DISCONNECT_GRACE_MS,
  } satisfies RedisOptions;
  const retryStrategy = (attempt: number) => reconnectDelayMs(attempt, options.maxReconnectDelayMs);
  if (topology.kind === 'cluster') {
    return new Cluster(topology.nodes.map(toAddress), {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      // A MOVED or failover is followed a few times, never for longer than a command may take.
      maxRedirections: 4,
      retryDelayOnFailover: Math.max(10, Math.floor(options.timeoutMs / 8)),
      retryDelayOnClusterDown: Math.max(10, Math.floor(options.timeoutMs / 8)),
      retryDelayOnTryAgain: Math.max(10, Math.floor(options.timeoutMs / 8)),
      slotsRefreshTimeout: options.timeoutMs,
      clusterRetryStrategy: retryStrategy,
      // A master that restarts keeps its slots: reconnect to it rather than wait for a MOVED that never comes.
      clusterNodeRetryStrategy: retryStrategy,
      redisOptions: perConnection,
    });
  }
  const base: RedisOptions = { ...perConnection, db: options.db, lazyConnect: true, enableOfflineQueue: false, retryStrategy };
  if (topology.kind === 'sentinel') return new Redis({ ...base, ...sentinelOptions(topology, options.timeoutMs, options.maxReconnectDelayMs) });
  return new Redis(topology.url, base);
}

/**
 * A connection for SUBSCRIBE that does not reconnect by itself (the cache bus reconnects, and
 * counts each reconnection as a possible loss of messages). In a Cluster, a PUBLISH reaches every
 * node, so the subscriber listens on one node: `attempt` rotates through the configured ones, so
 * that a dead node is left for the next.
 */
export function createSubscriberClient(options: RedisConnectionOptions, attempt: number): Redis {
  const { topology } = options;
  const base: RedisOptions = {
    password: options.password,
    protocol: 2,
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    maxRetriesPerRequest: null,
    disableClientInfo: true,
    connectionName: 'trading-gateway-bus',
    retryStrategy: () => null,
    disconnectTimeout: DISCONNECT_GRACE_MS,
  };
  if (topology.kind === 'cluster') return new Redis({ ...base, ...toAddress(topology.nodes[attempt % topology.nodes.length]!) });
  if (topology.kind === 'sentinel') return new Redis({ ...base, db: options.db, ...sentinelOptions(topology, options.timeoutMs, options.maxReconnectDelayMs) });
  return new Redis(topology.url, { ...base, db: options.db });
}

/** PING every master: a Cluster serves only while all of them do (a dead master's slots would fail every other command). */
export async function pingAll(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('no cluster master is known');
  await Promise.all(masters.map((master) => master.ping()));
}

/** Where the configured Redis is, for logs (without credentials). */
export function describeTopology(topology: RedisTopology): string {
  switch (topology.kind) {
    case 'standalone': {
      const parsed = new URL(topology.url);
      if (parsed.password !== '') parsed.password = '***';
      return parsed.toString();
    }
    case 'cluster':
      return `cluster ${topology.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
    case 'sentinel':
      return `sentinel master "${topology.masterName}" via ${topology.sentinels.map((node) => `${node.host}:${node.port}`).join(',')}`;
  }
}

function sentinelOptions(topology: Extract<RedisTopology, { kind: 'sentinel' }>, timeoutMs: number, maxReconnectDelayMs: number): RedisOptions {
  return {
    sentinels: topology.sentinels.map(toAddress),
    name: topology.masterName,
    sentinelPassword: topology.sentinelPassword,
    sentinelCommandTimeout: timeoutMs,
    // Keep asking until a sentinel answers: giving up (null) would end the connection for good,
    // since ioredis does not reconnect after its connector fails. Commands meanwhile fail at once
    // (no offline queue) and the cache serves from memory.
    sentinelRetryStrategy: (attempt: number) => reconnectDelayMs(attempt, maxReconnectDelayMs),
    // Sentinel announces a new master on +switch-master: reconnect at once instead of waiting for errors.
    failoverDetector: true,
  };
}

function toAddress(node: HostPort): { host: string; port: number } {
  return { host: node.host, port: node.port };
}
