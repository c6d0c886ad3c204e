/**
 * Concurrent callers for one key share one run of a task, in this process. `forgetAll` makes
 * later callers start afresh: after a write, a run already under way may have read the old data,
 * so nobody who arrives after the write may join it (those already waiting keep its result, which
 * is no older than their request).
 */
export class SingleFlight<Value> {
  private readonly running = new Map<string, Promise<Value>>();

  /** `joined` tells that the caller shares a run another caller started. */
  run(key: string, task: () => Promise<Value>): { readonly result: Promise<Value>; readonly joined: boolean } {
    const running = this.running.get(key);
    if (running !== undefined) return { result: running, joined: true };
    const result = task();
    this.running.set(key, result);
    const forget = () => {
      if (this.running.get(key) === result) this.running.delete(key);
    };
    result.then(forget, forget);
    return { result, joined: false };
  }

  forgetAll(): void {
    this.running.clear();
  }
}
