import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';

import { sendRateLimited } from '../http/rate-limit-gate';
import type { Admitted, LiveGate } from './live-gate';
import type { LiveHub } from './live-hub';
import type { LiveRequests, SubscriptionParams } from './live-requests';
import { Outbox } from './outbox';

export interface SseRouteOptions<Viewer> {
  readonly path: string;
  readonly hub: LiveHub<Viewer>;
  readonly requests: LiveRequests<Viewer>;
  readonly gate: LiveGate<Viewer>;
  /** Headers every answer carries besides its own (CORS for allowed origins). */
  readonly extraHeaders: (request: FastifyRequest) => Record<string, string>;
  /** Whose anonymous allowance a stream spends. */
  readonly clientAddress: (request: FastifyRequest) => string;
  readonly authRecheckMs: number;
  readonly maxQueuedEvents: number;
}

/** A comment line every so often, so that proxies do not close an idle stream (graphql-sse's interval). */
const KEEPALIVE_MS = 12_000;
const HIGH_WATER_BYTES = 16 * 1024;
const EVENT_STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

/**
 * GraphQL subscriptions over Server-Sent Events, in graphql-sse's "distinct connections" mode:
 * one request (POST with a JSON body, or GET with the query string) per subscription, answered
 * by an event stream of `next` events and a final `complete`. For clients that cannot use
 * WebSockets. The credential is the request's `Authorization` header; `Last-Event-ID` resumes a
 * subscription that replays (each replayable event carries its `id:`). A bad request gets 400, a
 * refused credential 401, too many connections 429, a subscription its viewer's budget cannot
 * pay for 429 with Retry-After and RateLimit headers (code RATE_LIMITED); errors found once
 * streaming (a refused argument, an expired session, a slow reader) end the stream with a `next`
 * carrying them.
 */
export function registerSseRoute<Viewer>(http: FastifyInstance, options: SseRouteOptions<Viewer>): { close(): void } {
  /** Open streams, each with how to end it: a stream never ends by itself, and a server closing waits for its requests. */
  const open = new Set<() => void>();
  const clients = new WeakMap<IncomingMessage, Client>();
  // Before anything awaits (session lookup, rate-limit charge, persisted documents): a client that
  // leaves during those would otherwise never be seen leaving, and its address is unknown once its socket is gone.
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    clients.set(request.raw, watchClient(request, reply, options.clientAddress(request)));
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!acceptsEventStream(request.headers.accept)) {
      return reply.code(406).headers(options.extraHeaders(request)).send({ errors: [{ message: 'Send Accept: text/event-stream', extensions: { code: 'NOT_ACCEPTABLE' } }] });
    }
    const params = paramsOf(request);
    if (params === undefined) return reply.code(400).headers(options.extraHeaders(request)).send({ errors: [{ message: 'Send the subscription as a JSON object, or in the query string', extensions: { code: 'BAD_REQUEST' } }] });
    const client = clients.get(request.raw) ?? watchClient(request, reply, options.clientAddress(request));
    const { clientAddress } = client;
    const admission = await options.gate.admit(request.headers.authorization, clientAddress);
    if (client.gone) {
      if (admission.ok) admission.admitted.release();
      return abandon(reply);
    }
    if (!admission.ok) {
      if (admission.reason === 'rate_limited') return sendRateLimited(reply.headers(options.extraHeaders(request)), admission.rateLimited);
      const status = admission.reason === 'unauthenticated' ? 401 : 429;
      return reply.code(status).headers(options.extraHeaders(request)).send({ errors: [{ message: admission.message, extensions: { code: admission.reason === 'unauthenticated' ? 'UNAUTHENTICATED' : 'TOO_MANY_CONNECTIONS' } }] });
    }
    const { admitted } = admission;
    const lastEventId = typeof request.headers['last-event-id'] === 'string' ? request.headers['last-event-id'] : undefined;
    const prepared = await options.requests.prepare(params, { viewer: admitted.viewer, identity: admitted.identity, trusted: options.gate.viewers.trusted(admitted.viewer), clientAddress }, lastEventId);
    if (client.gone) {
      admitted.release();
      return abandon(reply);
    }
    if (!prepared.ok) {
      admitted.release();
      const { rateLimited } = prepared;
      if (rateLimited === undefined) return reply.code(400).headers(options.extraHeaders(request)).send({ errors: prepared.errors });
      return sendRateLimited(reply.headers(options.extraHeaders(request)), rateLimited);
    }
    reply.hijack();
    stream(request, reply, client, admitted, options, open, async (send) => options.hub.subscribe(prepared.request, { send }));
    return reply;
  };
  http.post(options.path, { onRequest }, handler);
  http.get(options.path, { onRequest }, handler);
  return {
    /** Ends every stream (`complete`): the clients reconnect, to another instance. */
    close() {
      for (const end of [...open]) end();
    },
  };
}

/** A stream's client as seen from its arrival: where it came from, and whether it has left. */
interface Client {
  readonly clientAddress: string;
  readonly gone: boolean;
  /** Runs `then` once the connection closes (at once if it already has). */
  whenGone(then: () => void): void;
}

function watchClient(request: FastifyRequest, reply: FastifyReply, clientAddress: string): Client {
  const res = reply.raw;
  // The response closes with its socket (or once it has been sent): 'close' on the request itself
  // only says that its body has been read.
  let gone = res.destroyed || request.raw.socket.destroyed;
  const waiting: (() => void)[] = [];
  if (!gone) {
    res.once('close', () => {
      gone = true;
      for (const then of waiting.splice(0)) then();
    });
  }
  return {
    clientAddress,
    get gone() {
      return gone;
    },
    whenGone(then) {
      if (gone) then();
      else waiting.push(then);
    },
  };
}

/** Nothing to answer a client that has left: Fastify must not try to. */
function abandon(reply: FastifyReply): FastifyReply {
  reply.hijack();
  reply.raw.destroy();
  return reply;
}

function stream<Viewer>(
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  admitted: Admitted<Viewer>,
  options: SseRouteOptions<Viewer>,
  open: Set<() => void>,
  subscribe: (send: (frame: { payload: Buffer; eventId: string | undefined; conflationKey: string | undefined }) => void) => ReturnType<LiveHub<Viewer>['subscribe']>,
): void {
  const res = reply.raw;
  res.writeHead(200, { ...EVENT_STREAM_HEADERS, ...options.extraHeaders(request) });
  res.write(':\n\n');
  let ended = false;
  let unsubscribe: (() => void) | undefined;
  const end = (errors?: GraphQLFormattedError[]) => {
    open.delete(end);
    if (ended) return;
    ended = true;
    if (errors !== undefined) res.write(`event: next\ndata: ${JSON.stringify({ errors })}\n\n`);
    res.end('event: complete\ndata:\n\n');
  };
  let awaitingDrain = false;
  const outbox = new Outbox(
    {
      write: (bytes) => {
        if (res.write(bytes) || awaitingDrain) return;
        awaitingDrain = true;
        res.once('drain', () => {
          awaitingDrain = false;
          outbox.drained();
        });
      },
      get buffered() {
        return res.writableLength;
      },
    },
    { highWaterBytes: HIGH_WATER_BYTES, maxQueued: options.maxQueuedEvents },
    () => end([{ message: `Slow consumer: more than ${options.maxQueuedEvents} events waited`, extensions: { code: 'SLOW_CONSUMER' } }]),
  );
  const keepalive = setInterval(() => res.write(':\n\n'), KEEPALIVE_MS).unref();
  const recheck = admitted.identity.startsWith('user:')
    ? setInterval(() => {
        options.gate.viewers.stillValid(admitted.viewer).then(
          (valid) => valid || end([{ message: 'The session expired or was revoked', extensions: { code: 'UNAUTHENTICATED' } }]),
          // The sessions could not be read (database down): the stream stays; the next check decides.
          () => undefined,
        );
      }, options.authRecheckMs).unref()
    : undefined;
  open.add(end);
  client.whenGone(() => {
    open.delete(end);
    ended = true;
    clearInterval(keepalive);
    clearInterval(recheck);
    unsubscribe?.();
    admitted.release();
  });
  // Gone already: released above, and nothing to subscribe for.
  if (ended) return;
  void subscribe((frame) => {
    if (ended) return;
    const head = frame.eventId === undefined ? 'event: next\ndata: ' : `id: ${frame.eventId}\nevent: next\ndata: `;
    outbox.send(Buffer.concat([Buffer.from(head), frame.payload, BLANK_LINE]), frame.conflationKey);
  }).then(
    (subscribed) => {
      if (subscribed.kind === 'refused') end(subscribed.errors);
      else if (ended) subscribed.unsubscribe();
      else unsubscribe = subscribed.unsubscribe;
    },
    () => end([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]),
  );
}

const BLANK_LINE = Buffer.from('\n\n');

function acceptsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((part) => part.trim().split(';', 1)[0] === 'text/event-stream');
}

function paramsOf(request: FastifyRequest): SubscriptionParams | undefined {
  if (request.method === 'POST') {
    const body = request.body;
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  }
  const query = request.query as Record<string, string | undefined>;
  try {
    return {
      query: query.query,
      operationName: query.operationName,
      documentId: query.documentId,
      variables: query.variables === undefined ? undefined : (JSON.parse(query.variables) as unknown),
      extensions: query.extensions === undefined ? undefined : (JSON.parse(query.extensions) as unknown),
    };
  } catch {
    return undefined;
  }
}
