export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit (MARKET_BREAKER_FAILURE_THRESHOLD, default 5). */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through (MARKET_BREAKER_OPEN_MS, default 10 000). */
  readonly openMs: number;
  /** Milliseconds since the epoch; injected so that tests move time instead of waiting. */
  readonly now: () => number;
  /**
   * Which errors are failures of the dependency. Anything else (a bug, a refused argument) passes
   * through without moving the breaker: it says nothing about whether the upstream is up.
   */
  readonly isFailure: (error: unknown) => boolean;
  /** Told of every transition, for a log line: a circuit that opens is an outage an operator wants to see. */
  readonly onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

/** Thrown instead of calling the upstream while the circuit is open (or its one probe is out). */
export class CircuitOpenError extends Error {
  constructor(
    readonly dependency: string,
    /** When the next probe may go through. */
    readonly retryAtMs: number,
  ) {
    super(`${dependency}: circuit open, not called`);
    this.name = 'CircuitOpenError';
  }
}

export interface BreakerSnapshot {
  readonly state: BreakerState;
  readonly consecutive_failures: number;
  /** Times the circuit went from closed (or half-open) to open. */
  readonly opens: number;
  /** Calls refused without touching the upstream. */
  readonly short_circuited: number;
  readonly probes: number;
}

/**
 * A circuit breaker around one upstream. Closed: calls go through and consecutive failures are
 * counted. Open (after `failureThreshold` of them): calls fail at once with CircuitOpenError, so a
 * dead broker costs no timeouts and gets no load while it recovers. Half-open (once `openMs` has
 * passed): exactly one probe at a time goes through; its success closes the circuit, its failure
 * opens it for another `openMs`.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAtMs = 0;
  private probeOut = false;
  private opens = 0;
  private shortCircuited = 0;
  private probes = 0;

  constructor(
    readonly dependency: string,
    private readonly options: CircuitBreakerOptions,
  ) {}

  /** The state now; an open circuit whose cooldown is over reads as half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.options.now() - this.openedAtMs >= this.options.openMs) this.moveTo('half_open');
    return this.current;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half_open' && this.probeOut)) {
      this.shortCircuited += 1;
      throw new CircuitOpenError(this.dependency, state === 'open' ? this.openedAtMs + this.options.openMs : this.options.now());
    }
    const probe = state === 'half_open';
    if (probe) {
      this.probeOut = true;
      this.probes += 1;
    }
    try {
      const result = await call();
      this.succeeded(probe);
      return result;
    } catch (error) {
      if (this.options.isFailure(error)) this.failed(probe);
      throw error;
    } finally {
      if (probe) this.probeOut = false;
    }
  }

  snapshot(): BreakerSnapshot {
    return { state: this.state, consecutive_failures: this.consecutiveFailures, opens: this.opens, short_circuited: this.shortCircuited, probes: this.probes };
  }

  private succeeded(probe: boolean): void {
    // A call that started before the circuit opened proves little about the upstream now: only a
    // probe closes an open circuit.
    if (probe || this.current === 'closed') {
      this.moveTo('closed');
      this.consecutiveFailures = 0;
    }
  }

  private failed(probe: boolean): void {
    if (!probe && this.current !== 'closed') return;
    this.consecutiveFailures += 1;
    if (probe || this.consecutiveFailures >= this.options.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAtMs = this.options.now();
    this.opens += 1;
    this.moveTo('open');
  }

  private moveTo(state: BreakerState): void {
    const from = this.current;
    this.current = state;
    if (from !== state) this.options.onStateChange?.(from, state);
  }
}
