import { FleetFlight, type Loaded } from '../../src/cache/fleet-flight';
import type { Lease } from '../../src/cache/lease';

/** Leases that this instance always gets, each released by calling `onRelease`. */
function grantedLeases(onRelease: () => void) {
  const lease: Lease = { shared: true, release: () => Promise.resolve(onRelease()), renew: () => Promise.resolve(true) };
  return { tryAcquire: () => Promise.resolve(lease), isHeld: () => Promise.resolve(false) };
}

/** A load whose value is stored at once. */
function loadedNow<T>(value: T): Promise<Loaded<T>> {
  return Promise.resolve({ value, stored: Promise.resolve() });
}

/** A lease some other instance holds, and gives up when `release` is called. */
function heldElsewhere() {
  let held = true;
  return {
    leases: { tryAcquire: () => Promise.resolve(null), isHeld: () => Promise.resolve(held) },
    release: () => {
      held = false;
    },
  };
}

describe('FleetFlight, waiting for another instance', () => {
  it("takes the leader's result when it was stored and the lease released between a look and the lease check", async () => {
    const other = heldElsewhere();
    let stored: string | undefined;
    let looks = 0;
    const peek = () => {
      looks += 1;
      // The leader stores and releases right after this waiter's first look came back empty.
      if (looks === 1) {
        const seen = stored;
        stored = 'the leader’s result';
        other.release();
        return Promise.resolve(seen);
      }
      return Promise.resolve(stored);
    };
    const load = jest.fn(() => loadedNow('loaded again'));
    const flight = new FleetFlight(other.leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });

    await expect(flight.run('k', peek, load)).resolves.toEqual({ value: 'the leader’s result', joined: true });
    expect(load).not.toHaveBeenCalled();
  });

  it('loads itself when the lease is gone and nothing was stored (the leader failed or stored nothing)', async () => {
    const other = heldElsewhere();
    other.release();
    const flight = new FleetFlight(other.leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });
    await expect(flight.run('k', () => Promise.resolve(undefined), () => loadedNow('loaded here'))).resolves.toEqual({ value: 'loaded here', joined: false });
  });
});

describe('FleetFlight, leading', () => {
  it('answers as soon as the value is loaded, and releases the lease only once its store has landed', async () => {
    const events: string[] = [];
    const leases = grantedLeases(() => events.push('released'));
    let landed = () => {};
    const stored = new Promise<void>((resolve) => {
      landed = () => {
        events.push('stored');
        resolve();
      };
    });
    const flight = new FleetFlight(leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });

    await expect(flight.run('k', () => Promise.resolve(undefined), () => Promise.resolve({ value: 'loaded', stored }))).resolves.toEqual({ value: 'loaded', joined: false });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);

    landed();
    await flight.released();
    expect(events).toEqual(['stored', 'released']);
  });

  it('releases the lease at once when it finds the previous leader’s result, or when the load fails', async () => {
    let releases = 0;
    const leases = grantedLeases(() => (releases += 1));
    const flight = new FleetFlight(leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });

    await expect(flight.run('k', () => Promise.resolve('stored before'), () => loadedNow('not loaded'))).resolves.toEqual({ value: 'stored before', joined: true });
    await expect(flight.run('k', () => Promise.resolve(undefined), () => Promise.reject(new Error('load failed')))).rejects.toThrow('load failed');
    await flight.released();
    expect(releases).toBe(2);
  });
});
