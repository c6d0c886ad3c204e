import { type BreakerState, CircuitBreaker, CircuitOpenError } from '../../src/market/circuit-breaker';
import { UpstreamError } from '../../src/market/market-data.provider';

const THRESHOLD = 3;
const OPEN_MS = 10_000;

/** A breaker on a clock the test moves, with an upstream that answers as told and counts its calls. */
function setup() {
  let nowMs = 1_000_000;
  const transitions: string[] = [];
  const breaker = new CircuitBreaker('broker', {
    failureThreshold: THRESHOLD,
    openMs: OPEN_MS,
    now: () => nowMs,
    isFailure: (error) => error instanceof UpstreamError,
    onStateChange: (from: BreakerState, to: BreakerState) => transitions.push(`${from}->${to}`),
  });
  const upstream = { calls: 0 };
  const ok = () => breaker.run(() => Promise.resolve(++upstream.calls));
  const fail = () =>
    breaker.run(() => {
      upstream.calls += 1;
      return Promise.reject(new UpstreamError('broker', 'http', 'HTTP 503', { status: 503 }));
    });
  const advance = (ms: number) => {
    nowMs += ms;
  };
  const openIt = async () => {
    for (let i = 0; i < THRESHOLD; i += 1) await expect(fail()).rejects.toBeInstanceOf(UpstreamError);
  };
  return { breaker, upstream, ok, fail, advance, openIt, transitions };
}

describe('the circuit breaker', () => {
  it('stays closed below the threshold, and a success starts the count again', async () => {
    const { breaker, ok, fail } = setup();
    await expect(fail()).rejects.toThrow('HTTP 503');
    await expect(fail()).rejects.toThrow('HTTP 503');
    await ok();
    await expect(fail()).rejects.toThrow('HTTP 503');
    await expect(fail()).rejects.toThrow('HTTP 503');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutive_failures: 2, opens: 0 });
  });

  it(`opens after ${THRESHOLD} consecutive failures`, async () => {
    const { breaker, openIt, transitions } = setup();
    await openIt();
    expect(breaker.snapshot()).toMatchObject({ state: 'open', consecutive_failures: THRESHOLD, opens: 1 });
    expect(transitions).toEqual(['closed->open']);
  });

  it('while open, fails fast without calling the upstream, and counts each refusal', async () => {
    const { breaker, upstream, ok, openIt, advance } = setup();
    await openIt();
    const callsWhenOpened = upstream.calls;
    advance(OPEN_MS - 1);
    const refusal = ok();
    await expect(refusal).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(refusal).rejects.toMatchObject({ dependency: 'broker', retryAtMs: 1_000_000 + OPEN_MS });
    await expect(ok()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(upstream.calls).toBe(callsWhenOpened);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', short_circuited: 2 });
  });

  it('half-opens after the cooldown and lets exactly one probe through at a time', async () => {
    const { breaker, upstream, openIt, advance } = setup();
    await openIt();
    advance(OPEN_MS);
    expect(breaker.state).toBe('half_open');

    let answer: (value: string) => void = () => undefined;
    const probe = breaker.run(() => {
      upstream.calls += 1;
      return new Promise<string>((resolve) => {
        answer = resolve;
      });
    });
    const callsWithProbeOut = upstream.calls;
    await expect(breaker.run(() => Promise.resolve('second'))).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(breaker.run(() => Promise.resolve('third'))).rejects.toBeInstanceOf(CircuitOpenError);
    expect(upstream.calls).toBe(callsWithProbeOut);
    expect(breaker.snapshot()).toMatchObject({ state: 'half_open', probes: 1, short_circuited: 2 });

    answer('probe ok');
    await expect(probe).resolves.toBe('probe ok');
  });

  it('closes when the probe succeeds: calls flow again and the failure count starts from zero', async () => {
    const { breaker, upstream, ok, openIt, advance, transitions } = setup();
    await openIt();
    advance(OPEN_MS);
    await expect(ok()).resolves.toBe(THRESHOLD + 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutive_failures: 0, opens: 1, probes: 1 });
    await ok();
    await ok();
    expect(upstream.calls).toBe(THRESHOLD + 3);
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
  });

  it('reopens for a whole cooldown when the probe fails', async () => {
    const { breaker, upstream, ok, fail, openIt, advance, transitions } = setup();
    await openIt();
    advance(OPEN_MS);
    await expect(fail()).rejects.toBeInstanceOf(UpstreamError);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', opens: 2, probes: 1 });

    const calls = upstream.calls;
    advance(OPEN_MS - 1);
    await expect(ok()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(upstream.calls).toBe(calls);
    advance(1);
    await expect(ok()).resolves.toBe(calls + 1);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half_open', 'half_open->open', 'open->half_open', 'half_open->closed']);
  });

  it('does not count errors that say nothing about the upstream, and frees the probe slot after one', async () => {
    const { breaker, openIt, advance, ok } = setup();
    const bug = () => breaker.run(() => Promise.reject(new TypeError('a bug')));
    for (let i = 0; i < THRESHOLD * 2; i += 1) await expect(bug()).rejects.toBeInstanceOf(TypeError);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutive_failures: 0 });

    await openIt();
    advance(OPEN_MS);
    await expect(bug()).rejects.toBeInstanceOf(TypeError);
    expect(breaker.state).toBe('half_open');
    await expect(ok()).resolves.toBeGreaterThan(0);
    expect(breaker.state).toBe('closed');
  });

  it('ignores late answers of calls that started before the circuit opened', async () => {
    const { breaker, fail } = setup();
    let answer: (value: string) => void = () => undefined;
    const slow = breaker.run(() => new Promise<string>((resolve) => (answer = resolve)));
    for (let i = 0; i < THRESHOLD; i += 1) await expect(fail()).rejects.toBeInstanceOf(UpstreamError);
    answer('late');
    await expect(slow).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });
});
