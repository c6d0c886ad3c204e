import type { IncomingMessage, ServerResponse } from 'node:http';

import { type Span, SpanStatusCode } from '@opentelemetry/api';

import type { Tracing } from './tracing';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A span per HTTP request (kind SERVER) around node's listener, so that it covers both the hit
 * front and Fastify: method, path, status and who answered (`gateway.answered_by`: `hit-front` or
 * `fastify`). The cache's outcome (`gateway.cache`, the `x-cache` sent) is set by the answers
 * (TracedAnswers), which know it.
 *
 * Sampling is decided here, once. An unsampled request without an incoming trace runs as it
 * would without tracing: no context switch, no listener, no attribute. No method of node's
 * request or response is replaced (a sampled request's objects would take another shape than the
 * rest, which slows every request's code down: BENCHMARKS.md, "Tracing overhead"); a sampled
 * response only gets a 'close' listener.
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
      const started = this.tracing.startRequest(request.headers, this.describe, request);
      if (started === undefined) {
        listener(request, response);
        return;
      }
      if (started.span !== undefined) this.watch(request, response, started.span);
      this.tracing.runIn(started.context, listener, request, response);
    };
  }

  /** Around Fastify's handler, behind the hit front: notes that Fastify answered. (Fastify runs its body parser in the request's own context: the trace carries on.) */
  fastify(handler: RequestListener): RequestListener {
    return (request, response) => {
      if (this.tracing.recordingSpan() !== undefined) this.viaFastify.add(request);
      handler(request, response);
    };
  }

  private readonly describe = (request: IncomingMessage): readonly [string, { 'http.request.method': string; 'url.path': string }] => {
    const { method = 'OTHER', url = '/' } = request;
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    return [path === this.graphqlPath ? `${method} ${path}` : method, { 'http.request.method': method, 'url.path': path }];
  };

  /** Ends the span when the response is done (or the connection dropped), with what was answered. */
  private watch(request: IncomingMessage, response: ServerResponse, span: Span): void {
    // `on`, not `once`: 'close' fires once, and once's wrapper is garbage on every sampled request.
    response.on('close', () => {
      span.setAttributes({ 'http.response.status_code': response.statusCode, 'gateway.answered_by': this.viaFastify.has(request) ? 'fastify' : 'hit-front' });
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      else if (!response.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the response was sent' });
      span.end();
    });
  }
}
