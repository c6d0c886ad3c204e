import { setFlagsFromString } from 'node:v8';

/**
 * V8's allocation-site pretenuring, off. When V8 sees many objects from one allocation site
 * survive a scavenge (start-up, a burst of concurrent requests), it allocates that site's objects
 * in the old generation from then on. For a gateway whose objects live for one request, that
 * fills the old generation with garbage: on Node 24 about one process in three made that decision
 * while warming up and then ran a major GC every second under load, spending +50 % CPU per cached
 * hit, with a p99 of 19 ms instead of 4 (BENCHMARKS.md, "Tracing overhead"). Without it, every
 * process runs as the lucky ones did. Process-wide and idempotent; set before the gateway serves.
 */
export function tuneV8ForRequestLifetimes(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
