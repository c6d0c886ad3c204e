import { context } from '@opentelemetry/api';

import type { FleetFlights, Loaded } from '../cache/fleet-flight';
import { failed, type Tracing } from './tracing';

/**
 * A fleet-wide flight whose wait is a span (`cache.fleet_flight`): from the miss until this
 * instance either has another instance's result (`joined`) or starts loading itself (`loaded`,
 * after a lease, a timeout or a leader that stored nothing). The load is not part of it: it runs
 * in the caller's context, its own spans beside this one.
 */
export class TracedFleetFlight implements FleetFlights {
  constructor(
    private readonly inner: FleetFlights,
    private readonly tracing: Tracing,
  ) {}

  async run<T>(key: string, peek: () => Promise<T | undefined>, load: () => Promise<Loaded<T>>): Promise<{ value: T; joined: boolean }> {
    const span = this.tracing.startChild('cache.fleet_flight');
    if (span === undefined) return this.inner.run(key, peek, load);
    const caller = context.active();
    const startedMs = performance.now();
    let waiting = true;
    const stopWaiting = (outcome: 'joined' | 'loaded' | 'failed') => {
      if (!waiting) return;
      waiting = false;
      span.setAttributes({ 'gateway.fleet_flight.outcome': outcome, 'gateway.fleet_flight.wait_ms': Math.round(performance.now() - startedMs) });
      span.end();
    };
    try {
      const result = await this.tracing.within(span, () =>
        this.inner.run(key, peek, () => {
          stopWaiting('loaded');
          return context.with(caller, load);
        }),
      );
      stopWaiting(result.joined ? 'joined' : 'loaded');
      return result;
    } catch (error) {
      if (waiting) failed(span, error);
      stopWaiting('failed');
      throw error;
    }
  }
}
