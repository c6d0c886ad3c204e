import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

import { WebSocket, WebSocketServer } from 'ws';

import type { Logger } from '../logger';
import type { Admitted, LiveGate } from './live-gate';
import type { LiveFrame, LiveHub } from './live-hub';
import type { LiveRequests } from './live-requests';
import { Outbox } from './outbox';
import { textFrame } from './websocket-frame';

/** graphql-ws's protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md). */
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

/** Close codes: the protocol's own, and 4403 / 4413 for what the protocol leaves to servers. */
export const CloseCode = {
  InternalServerError: 4500,
  BadRequest: 4400,
  Unauthorized: 4401,
  /** A refused credential at init, or a session that expired or was revoked on an open socket. */
  Forbidden: 4403,
  SubprotocolNotAcceptable: 4406,
  ConnectionInitialisationTimeout: 4408,
  SubscriberAlreadyExists: 4409,
  /** Also: too many connections for the viewer. */
  TooManyInitialisationRequests: 4429,
  /** The client read too slowly: more signal events waited for it than SUBSCRIPTION_MAX_QUEUED_EVENTS. */
  SlowConsumer: 4413,
} as const;

export interface GraphqlWsOptions<Viewer> {
  readonly path: string;
  readonly hub: LiveHub<Viewer>;
  readonly requests: LiveRequests<Viewer>;
  readonly gate: LiveGate<Viewer>;
  /** Whether a browser page from `origin` may open a socket (same origin, or CORS_ORIGINS). */
  readonly allowsOrigin: (origin: string, host: string | undefined) => boolean;
  /** Whose anonymous allowance a connection spends (TRUSTED_PROXIES decide whether X-Forwarded-For is believed). */
  readonly clientAddress: (request: IncomingMessage) => string;
  readonly initTimeoutMs: number;
  readonly authRecheckMs: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxQueuedEvents: number;
  readonly logger: Logger;
}

/** Unsent bytes past which a socket counts as slow: 10,000 stalled sockets stay within a few MiB each way. */
const HIGH_WATER_BYTES = 16 * 1024;
/** A socket that answers no ping for this long is dead (a vanished client leaves no FIN). */
const KEEPALIVE_MS = 30_000;
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Sockets written to in this turn of the event loop, corked until it ends: the frames one client
 * gets from one batch of events (a tick of each of its instruments) leave in one write system
 * call instead of one each. The write is most of what a delivered frame costs (see BENCHMARKS.md,
 * Subscriptions). A socket is uncorked at once when it holds half the outbox's high-water mark,
 * so that corking never makes an Outbox hold back frames it would otherwise have written.
 */
class TurnCorker {
  private readonly corked = new Set<Duplex>();
  private scheduled = false;

  /** Call before writing to `socket`; `release` after, with what it holds. */
  cork(socket: Duplex): void {
    if (this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Uncorks `socket` now if it holds at least `bytes`. */
  release(socket: Duplex, bytes: number): void {
    if (socket.writableLength < bytes || !this.corked.delete(socket)) return;
    socket.uncork();
  }

  private flush(): void {
    this.scheduled = false;
    const sockets = [...this.corked];
    this.corked.clear();
    for (const socket of sockets) socket.uncork();
  }
}

/**
 * GraphQL subscriptions over WebSocket, speaking graphql-ws's protocol on the GraphQL path.
 * The upgrade is refused (403) for a browser origin that is not allowed. The client then has
 * `initTimeoutMs` to send a `connection_init` whose payload carries its credential
 * (`{"authorization": "Bearer …"}`), or is closed with 4408; a refused credential closes with 4403.
 * Each subscription joins the LiveHub; its frames go out through the connection's Outbox.
 */
export class GraphqlWsServer<Viewer> {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection<Viewer>>();
  private readonly corker = new TurnCorker();
  private keepalive: NodeJS.Timeout | undefined;

  constructor(private readonly options: GraphqlWsOptions<Viewer>) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      // No extension may be negotiated: the connections write their frames themselves (textFrame).
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(GRAPHQL_TRANSPORT_WS) ? GRAPHQL_TRANSPORT_WS : false),
    });
  }

  get size(): number {
    return this.connections.size;
  }

  /** Takes the server's upgrades on the GraphQL path; others are refused. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    this.keepalive = setInterval(() => {
      for (const connection of this.connections) connection.checkAlive();
    }, KEEPALIVE_MS).unref();
  }

  /** Closes every socket (1001, going away): clients reconnect to another instance. */
  close(): void {
    clearInterval(this.keepalive);
    for (const connection of this.connections) connection.close(1001, 'Server shutting down');
    this.wss.close();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '').split('?', 1)[0];
    const origin = request.headers.origin;
    if (path !== this.options.path) return refuseUpgrade(socket, 404, 'Not Found');
    if (origin !== undefined && !this.options.allowsOrigin(origin, request.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden');
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (ws.protocol !== GRAPHQL_TRANSPORT_WS) {
        ws.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
        return;
      }
      const connection = new WsConnection(ws, socket, this.corker, this.options.clientAddress(request), this.options);
      this.connections.add(connection);
      ws.once('close', () => {
        this.connections.delete(connection);
        connection.closed();
      });
    });
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

interface Message {
  readonly type?: unknown;
  readonly id?: unknown;
  readonly payload?: unknown;
}

/** One socket: the protocol's states, its subscriptions, its outbox. */
class WsConnection<Viewer> {
  private admitted: Admitted<Viewer> | undefined;
  private initReceived = false;
  private readonly subscriptions = new Map<string, () => void>();
  private readonly outbox: Outbox;
  private readonly initTimer: NodeJS.Timeout;
  private recheckTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private readonly drained = () => this.outbox.drained();

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    corker: TurnCorker,
    private readonly address: string,
    private readonly options: GraphqlWsOptions<Viewer>,
  ) {
    this.outbox = new Outbox(
      {
        // Frames go to the socket as they are (see textFrame), after any control frame `ws` wrote
        // before them. A write that takes the socket past the high-water mark carries the one
        // callback: once the kernel has taken it, everything before it is gone too, which is the
        // moment to send what waits. (The socket's own mark, and so its 'drain', is 16 KiB on
        // Node 20 and 64 KiB on Node 24.)
        write: (frame) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          corker.cork(socket);
          socket.write(frame, socket.writableLength + frame.length >= HIGH_WATER_BYTES ? this.drained : undefined);
          corker.release(socket, HIGH_WATER_BYTES / 2);
        },
        get buffered() {
          return socket.writableLength;
        },
      },
      { highWaterBytes: HIGH_WATER_BYTES, maxQueued: options.maxQueuedEvents },
      () => this.close(CloseCode.SlowConsumer, `Slow consumer: more than ${options.maxQueuedEvents} events waited`),
    );
    this.initTimer = setTimeout(() => this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout'), options.initTimeoutMs);
    ws.on('message', (data, isBinary) => {
      this.receive(isBinary || !Buffer.isBuffer(data) ? '' : data.toString('utf8')).catch((error: unknown) => {
        options.logger.error({ err: error }, 'graphql-ws: unexpected error handling a message');
        this.close(CloseCode.InternalServerError, 'Internal server error');
      });
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (error) => options.logger.debug({ err: error }, 'graphql-ws: socket error'));
  }

  checkAlive(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /**
   * Its subscriptions end at once, not when the client answers the close: a client that stopped
   * reading (4413) would otherwise be fanned out to until `ws` gives up waiting for it (30 s).
   */
  close(code: number, reason: string): void {
    this.endSubscriptions();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** The socket closed: its subscriptions end and its viewer's allowance is returned. */
  closed(): void {
    clearTimeout(this.initTimer);
    clearInterval(this.recheckTimer);
    this.endSubscriptions();
    this.admitted?.release();
  }

  private endSubscriptions(): void {
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
  }

  private async receive(text: string): Promise<void> {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
      if (message === null || typeof message !== 'object' || typeof message.type !== 'string') throw new Error('not a message');
    } catch {
      this.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case 'connection_init':
        return this.init(message.payload);
      case 'ping':
        this.sendJson({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'subscribe':
        return this.subscribe(message);
      case 'complete':
        if (typeof message.id === 'string') this.stop(message.id);
        return;
      default:
        this.close(CloseCode.BadRequest, `Invalid message type "${String(message.type)}"`);
    }
  }

  private async init(payload: unknown): Promise<void> {
    if (this.initReceived) {
      this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      return;
    }
    this.initReceived = true;
    const admission = await this.options.gate.admit(authorizationOf(payload), this.address);
    // The init timeout covers the check: a slow one closes the socket meanwhile.
    if (this.ws.readyState !== WebSocket.OPEN) {
      if (admission.ok) admission.admitted.release();
      return;
    }
    clearTimeout(this.initTimer);
    if (!admission.ok) {
      this.close(admission.reason === 'unauthenticated' ? CloseCode.Forbidden : CloseCode.TooManyInitialisationRequests, admission.message);
      return;
    }
    this.admitted = admission.admitted;
    this.sendJson({ type: 'connection_ack' });
    if (admission.admitted.identity.startsWith('user:')) {
      this.recheckTimer = setInterval(() => void this.recheck(), this.options.authRecheckMs);
    }
  }

  /** A session can end while its socket is open: the socket ends with it. */
  private async recheck(): Promise<void> {
    const admitted = this.admitted;
    if (admitted === undefined) return;
    let valid: boolean;
    try {
      valid = await this.options.gate.viewers.stillValid(admitted.viewer);
    } catch (error) {
      // The sessions could not be read (database down): the socket stays; the next check decides.
      this.options.logger.warn({ err: error }, 'graphql-ws: could not check a session again; keeping the connection until the next check');
      return;
    }
    if (!valid) this.close(CloseCode.Forbidden, 'Forbidden: the session expired or was revoked');
  }

  private async subscribe(message: Message): Promise<void> {
    const admitted = this.admitted;
    if (admitted === undefined) {
      this.close(CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    const id = message.id;
    if (typeof id !== 'string' || id === '' || message.payload === null || typeof message.payload !== 'object') {
      this.close(CloseCode.BadRequest, 'Invalid subscribe message');
      return;
    }
    if (this.subscriptions.has(id)) {
      this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return;
    }
    if (this.subscriptions.size >= this.options.maxSubscriptionsPerConnection) {
      this.sendJson({ id, type: 'error', payload: [{ message: `Too many subscriptions on this connection (at most ${this.options.maxSubscriptionsPerConnection})`, extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }] });
      return;
    }
    // Reserved while it is checked, so that a second subscribe with this id is refused.
    let stopped = false;
    this.subscriptions.set(id, () => {
      stopped = true;
    });
    const { viewer, identity } = admitted;
    const prepared = await this.options.requests.prepare(message.payload, { viewer, identity, trusted: this.options.gate.viewers.trusted(viewer), clientAddress: this.address }, undefined);
    if (stopped) return;
    if (!prepared.ok) {
      this.subscriptions.delete(id);
      this.sendJson({ id, type: 'error', payload: prepared.errors });
      return;
    }
    const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    const subscribed = await this.options.hub.subscribe(prepared.request, {
      send: (frame: LiveFrame) => this.outbox.send(textFrame(head, frame.payload, CLOSING_BRACE), frame.conflationKey === undefined ? undefined : `${id}\n${frame.conflationKey}`),
    });
    if (subscribed.kind === 'refused') {
      this.subscriptions.delete(id);
      if (!stopped) this.sendJson({ id, type: 'error', payload: subscribed.errors });
      return;
    }
    if (stopped || this.ws.readyState !== WebSocket.OPEN) {
      subscribed.unsubscribe();
      return;
    }
    this.subscriptions.set(id, subscribed.unsubscribe);
  }

  private stop(id: string): void {
    const unsubscribe = this.subscriptions.get(id);
    if (unsubscribe === undefined) return;
    this.subscriptions.delete(id);
    unsubscribe();
  }

  private sendJson(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.outbox.send(textFrame(Buffer.from(JSON.stringify(message))), undefined);
  }
}

const CLOSING_BRACE = Buffer.from('}');

/** `{"authorization": "Bearer …"}` (any case), or `{"headers": {"Authorization": …}}` as some clients send it. */
function authorizationOf(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object') return undefined;
  const fields = payload as Record<string, unknown>;
  const headers = fields.headers !== null && typeof fields.headers === 'object' ? (fields.headers as Record<string, unknown>) : {};
  for (const source of [fields, headers]) {
    for (const [name, value] of Object.entries(source)) {
      if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value;
    }
  }
  return undefined;
}
