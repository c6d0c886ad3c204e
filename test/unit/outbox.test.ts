import { Outbox, type Wire } from '../../src/live/outbox';

/** A wire whose client reads only when the test says so. */
class StalledWire implements Wire {
  readonly written: string[] = [];
  buffered = 0;

  write(bytes: Buffer): void {
    this.written.push(bytes.toString());
    this.buffered += bytes.length;
  }

  /** The client reads everything. */
  read(): void {
    this.buffered = 0;
  }
}

const frame = (text: string) => Buffer.from(text);

describe('a connection outbox (slow clients)', () => {
  it('writes at once while the client keeps up', () => {
    const wire = new StalledWire();
    const outbox = new Outbox(wire, { highWaterBytes: 100, maxQueued: 2 }, () => undefined);
    outbox.send(frame('a'), 'EUR_USD');
    outbox.send(frame('b'), undefined);
    expect(wire.written).toEqual(['a', 'b']);
    expect(outbox.waiting).toBe(0);
  });

  it('keeps only the latest tick per instrument for a stalled client, and sends them when it reads again', () => {
    const wire = new StalledWire();
    const outbox = new Outbox(wire, { highWaterBytes: 20, maxQueued: 2 }, () => undefined);
    outbox.send(frame('01234567890123456789'), undefined);
    for (let tick = 0; tick < 1_000; tick += 1) {
      outbox.send(frame(`EUR_USD ${tick}`), 'EUR_USD');
      outbox.send(frame(`GBP_USD ${tick}`), 'GBP_USD');
    }
    expect(outbox.waiting).toBe(2);
    wire.read();
    outbox.drained();
    expect(wire.written.slice(1)).toEqual(['EUR_USD 999', 'GBP_USD 999']);
  });

  it('queues events in order up to the bound, then gives up on the client once', () => {
    const wire = new StalledWire();
    const overflow = jest.fn();
    const outbox = new Outbox(wire, { highWaterBytes: 1, maxQueued: 3 }, overflow);
    outbox.send(frame('first'), undefined);
    outbox.send(frame('e1'), undefined);
    outbox.send(frame('e2'), undefined);
    wire.read();
    outbox.drained();
    // Read again before the bound: nothing lost, in order (one frame per read, the wire filling up again).
    expect(wire.written).toEqual(['first', 'e1']);
    wire.read();
    outbox.drained();
    expect(wire.written).toEqual(['first', 'e1', 'e2']);
    for (let event = 0; event < 10; event += 1) outbox.send(frame(`later ${event}`), undefined);
    expect(overflow).toHaveBeenCalledTimes(1);
    // What waited is dropped with the client: memory does not grow for a client that is gone.
    expect(outbox.waiting).toBe(0);
  });
});
