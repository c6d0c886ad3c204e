import { Agent, request } from 'node:http';

/** What a request stands for in the figures: a cacheable public read, a per-viewer read, or a read that is cold every time. */
export type RequestKind = 'public' | 'viewer' | 'uncached';

export interface LoadRequest {
  readonly kind: RequestKind;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Picks a watched value out of a successful answer (a user's display name), to check it for staleness. */
  readonly observe?: (data: Record<string, unknown>) => string | undefined;
}

export interface Outcome {
  readonly kind: RequestKind;
  /** `performance.now()` when the request was sent. */
  readonly startMs: number;
  readonly latencyMs: number;
  /** HTTP status; 0 when no response came (connection error or client timeout). */
  readonly status: number;
  /** HTTP 200 with data and no GraphQL errors. */
  readonly ok: boolean;
  readonly errorCodes: readonly string[];
  readonly errorMessage?: string;
  readonly observed?: string;
}

export interface LoadOptions {
  /** Keep-alive connections, each with at most one request in flight. */
  readonly concurrency: number;
  /** Requests per second across all connections; a connection that falls behind sends at once (no think time). */
  readonly ratePerSecond: number;
  /** The next request to send; called once per request. */
  readonly next: () => LoadRequest;
  /** A request without an answer by then counts as failed (status 0). */
  readonly requestTimeoutMs?: number;
}

interface GraphqlBody {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { readonly message?: string; readonly extensions?: { readonly code?: unknown } }[];
}

/**
 * A paced load of GraphQL requests over a fixed set of keep-alive connections, recording every
 * outcome. Paced rather than flat out so that the machine (two cores shared with other test
 * suites) keeps headroom: the latency measured is the gateway's, not a saturated CPU's queue.
 */
export class LoadGenerator {
  private readonly agent: Agent;
  private readonly recorded: Outcome[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private nextSlotMs = 0;
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly options: LoadOptions,
  ) {
    this.url = new URL('/graphql', baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextSlotMs = performance.now();
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
  }

  /** Stops sending, waits for the requests in flight, then closes every connection. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.agent.destroy();
  }

  /** Outcomes of the requests sent in `[fromMs, toMs)` (performance.now() times). */
  outcomes(fromMs = 0, toMs = Number.POSITIVE_INFINITY): Outcome[] {
    return this.recorded.filter((outcome) => outcome.startMs >= fromMs && outcome.startMs < toMs);
  }

  get sent(): number {
    return this.recorded.length;
  }

  /** One request outside the paced stream (a probe), over the same connections. */
  send(load: LoadRequest): Promise<Outcome> {
    return this.exchange(load);
  }

  private async work(): Promise<void> {
    const intervalMs = 1000 / this.options.ratePerSecond;
    while (this.running) {
      const slot = this.nextSlotMs;
      this.nextSlotMs += intervalMs;
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!this.running) return;
      this.recorded.push(await this.exchange(this.options.next()));
    }
  }

  private exchange(load: LoadRequest): Promise<Outcome> {
    const body = JSON.stringify({ query: load.query, variables: load.variables });
    const startMs = performance.now();
    const finish = (status: number, parsed: GraphqlBody | undefined, failure?: string): Outcome => {
      const errors = parsed?.errors ?? [];
      const data = parsed?.data;
      const ok = status === 200 && errors.length === 0 && data !== undefined && data !== null;
      const observed = ok && load.observe !== undefined ? load.observe(data) : undefined;
      const errorMessage = failure ?? errors[0]?.message;
      return {
        kind: load.kind,
        startMs,
        latencyMs: performance.now() - startMs,
        status,
        ok,
        errorCodes: errors.map((error) => (typeof error.extensions?.code === 'string' ? error.extensions.code : 'NO_CODE')),
        ...(errorMessage === undefined ? {} : { errorMessage }),
        ...(observed === undefined ? {} : { observed }),
      };
    };
    return new Promise((resolve) => {
      const outgoing = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.options.requestTimeoutMs ?? 10_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(load.token === undefined ? {} : { authorization: `Bearer ${load.token}` }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => resolve(finish(0, undefined, error.message)));
          response.on('end', () => {
            let parsed: GraphqlBody | undefined;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphqlBody;
            } catch {
              resolve(finish(response.statusCode ?? 0, undefined, 'response is not JSON'));
              return;
            }
            resolve(finish(response.statusCode ?? 0, parsed));
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('client timeout')));
      outgoing.on('error', (error) => resolve(finish(0, undefined, error.message)));
      outgoing.end(body);
    });
  }
}

export interface LatencySummary {
  readonly requests: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of the latencies (0 for no outcomes). */
export function percentile(outcomes: readonly Outcome[], fraction: number): number {
  if (outcomes.length === 0) return 0;
  const sorted = outcomes.map((outcome) => outcome.latencyMs).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? 0;
}

export function summarize(outcomes: readonly Outcome[]): LatencySummary {
  return {
    requests: outcomes.length,
    failures: outcomes.filter((outcome) => !outcome.ok).length,
    p50Ms: round(percentile(outcomes, 0.5)),
    p99Ms: round(percentile(outcomes, 0.99)),
    maxMs: round(percentile(outcomes, 1)),
  };
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
