/**
 * Concurrent callers for one key share one run of a task, in this process. `forgetAll` makes
 * later callers start afresh: after a write, a run already under way may have read the old data,
 * so nobody who arrives after the write may join it (those already waiting keep its result, which
 * is no older than their request). Flights made by CacheService.newFlight are forgotten by every
 * invalidation, made here or announced by another instance.
 */
export class SingleFlight<Value> {
  private readonly running = new Map<string, Promise<Value>>();

  /** `joined` tells that the caller shares a run another caller started. */
  run(key: string, task: () => Promise<Value>): { readonly result: Promise<Value>; readonly joined: boolean } {
    const running = this.join(key);
    return running === undefined ? { result: this.track(key, task()), joined: false } : { result: running, joined: true };
  }

  /** The run under way for `key`, if any. */
  join(key: string): Promise<Value> | undefined {
    return this.running.get(key);
  }

  /** Makes `result` the run for `key` until it settles (for runs that serve several keys at once). */
  track(key: string, result: Promise<Value>): Promise<Value> {
    this.running.set(key, result);
    const forget = () => {
      if (this.running.get(key) === result) this.running.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  forgetAll(): void {
    this.running.clear();
  }
}
