import { FleetFlight } from '../../src/cache/fleet-flight';

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
    const load = jest.fn(() => Promise.resolve('loaded again'));
    const flight = new FleetFlight(other.leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });

    await expect(flight.run('k', peek, load)).resolves.toEqual({ value: 'the leader’s result', joined: true });
    expect(load).not.toHaveBeenCalled();
  });

  it('loads itself when the lease is gone and nothing was stored (the leader failed or stored nothing)', async () => {
    const other = heldElsewhere();
    other.release();
    const flight = new FleetFlight(other.leases, (key) => `lease:${key}`, () => true, { waitMs: 1_000, pollMs: 5 });
    await expect(flight.run('k', () => Promise.resolve(undefined), () => Promise.resolve('loaded here'))).resolves.toEqual({ value: 'loaded here', joined: false });
  });
});
