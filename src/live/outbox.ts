/** Where a connection's bytes go: a WebSocket or an SSE response. */
export interface Wire {
  write(bytes: Buffer): void;
  /** Bytes written and not yet taken by the kernel. */
  readonly buffered: number;
}

export interface OutboxOptions {
  /** Past this many buffered bytes the client counts as slow and frames wait here instead. */
  readonly highWaterBytes: number;
  /** Frames without a conflation key that may wait; one more and the connection is closed (`overflow`). */
  readonly maxQueued: number;
}

/**
 * One connection's way out, bounded. While the client keeps up, frames are written at once.
 * Once it falls behind (more than `highWaterBytes` unsent), frames wait here: a frame with a
 * conflation key (a quote tick) replaces the waiting one with the same key, so a stalled client
 * holds at most one per instrument; the others (signal events) queue up to `maxQueued`, past which
 * `overflow` is called and the connection should close. So a stalled client costs a bounded
 * amount of memory, and the rest of the fleet's clients never wait for it.
 */
export class Outbox {
  private readonly conflated = new Map<string, Buffer>();
  private readonly queue: Buffer[] = [];
  private overflowed = false;

  constructor(
    private readonly wire: Wire,
    private readonly options: OutboxOptions,
    private readonly overflow: () => void,
  ) {}

  /** Frames waiting here. */
  get waiting(): number {
    return this.conflated.size + this.queue.length;
  }

  send(bytes: Buffer, conflationKey: string | undefined): void {
    if (this.overflowed) return;
    if (this.waiting === 0 && this.wire.buffered < this.options.highWaterBytes) {
      this.wire.write(bytes);
      return;
    }
    if (conflationKey !== undefined) {
      this.conflated.delete(conflationKey);
      this.conflated.set(conflationKey, bytes);
      return;
    }
    this.queue.push(bytes);
    if (this.queue.length > this.options.maxQueued) {
      this.overflowed = true;
      this.queue.length = 0;
      this.conflated.clear();
      this.overflow();
    }
  }

  /** The wire took some bytes: send what waits, oldest first, while the client keeps up. */
  drained(): void {
    if (this.waiting === 0) return;
    while (this.wire.buffered < this.options.highWaterBytes) {
      const next = this.queue.shift() ?? this.takeConflated();
      if (next === undefined) return;
      this.wire.write(next);
    }
  }

  private takeConflated(): Buffer | undefined {
    for (const [key, bytes] of this.conflated) {
      this.conflated.delete(key);
      return bytes;
    }
    return undefined;
  }
}
