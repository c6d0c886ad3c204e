import type { IncomingMessage, ServerResponse } from 'node:http';

import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

import type { Tracing } from './tracing';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A span per HTTP request (kind SERVER) around node's listener, so that it covers both the hit
 * front and Fastify: method, path, status, the cache's outcome (`gateway.cache`, the `x-cache`
 * sent) and who answered (`gateway.answered_by`: `hit-front` or `fastify`).
 *
 * Sampling is decided here, once. An unsampled request without an incoming trace runs as it
 * would without tracing: no context switch, no listener, no attribute.
 */
export class RequestSpans {
  /** Recorded requests that reached Fastify's handler. */
  private readonly viaFastify = new WeakSet<IncomingMessage>();

  constructor(
    private readonly tracing: Tracing,
    /** The GraphQL route's path: the one path named in span names (others are by method only, keeping names few). */
    private readonly graphqlPath: string,
  ) {}

  /** Around the server's whole listener (the hit front, with Fastify behind it). */
  around(listener: RequestListener): RequestListener {
    return (request, response) => {
      const started = this.tracing.startRequest(request.headers);
      if (started === undefined) {
        listener(request, response);
        return;
      }
      const { span, context: carried } = started;
      if (span !== undefined) {
        const { method = 'OTHER', url = '/' } = request;
        const queryAt = url.indexOf('?');
        const path = queryAt === -1 ? url : url.slice(0, queryAt);
        span.updateName(path === this.graphqlPath ? `${method} ${path}` : method);
        span.setAttributes({ 'http.request.method': method, 'url.path': path });
        this.watch(request, response, span);
      }
      // A POST's body arrives in events of the request's own async resource, created before this
      // context: with its emit bound, the listeners (the hit front's, Fastify's parser) run in the
      // request's trace. (One closure; context.bind(context, emitter) would patch six methods.)
      // eslint-disable-next-line @typescript-eslint/unbound-method -- the bound wrapper calls it with its own `this`, the request
      request.emit = context.bind(carried, request.emit);
      context.with(carried, listener, undefined, request, response);
    };
  }

  /** Around Fastify's handler, behind the hit front: notes that Fastify answered. */
  fastify(handler: RequestListener): RequestListener {
    return (request, response) => {
      if (trace.getSpan(context.active())?.isRecording() === true) this.viaFastify.add(request);
      handler(request, response);
    };
  }

  /** Ends the span when the response is done (or the connection dropped), with what was answered. */
  private watch(request: IncomingMessage, response: ServerResponse, span: Span): void {
    let cacheOutcome: string | undefined;
    // Both layers write their headers in one writeHead call (an object, or node's flat list), not
    // through setHeader, so getHeader cannot see them: `x-cache` is read on its way through.
    const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
    response.writeHead = (...args: unknown[]) => {
      cacheOutcome = headerIn(args[args.length - 1], 'x-cache');
      return writeHead(...args);
    };
    response.once('close', () => {
      span.setAttributes({
        'http.response.status_code': response.statusCode,
        'gateway.answered_by': this.viaFastify.has(request) ? 'fastify' : 'hit-front',
        ...(cacheOutcome === undefined ? {} : { 'gateway.cache': cacheOutcome }),
      });
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      else if (!response.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the response was sent' });
      span.end();
    });
  }
}

/** A header's value in writeHead's headers: an object, a flat [name, value, …] list, or [name, value] pairs. */
function headerIn(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 1) {
      const item: unknown = headers[i];
      if (Array.isArray(item)) {
        if (String(item[0]).toLowerCase() === name) return String(item[1]);
      } else if (i % 2 === 0 && String(item).toLowerCase() === name) {
        return String(headers[i + 1]);
      }
    }
    return undefined;
  }
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return String(value);
  }
  return undefined;
}
