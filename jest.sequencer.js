const Sequencer = require('@jest/test-sequencer').default;

/**
 * Jest's own order (slowest or largest first), except that the soak goes last: it measures a
 * steady minute of traffic from inside its worker, and beside the suites that run several gateway
 * processes at once (two processes on a Cluster, say) a 2-core machine starves its load generator.
 * Last, it shares the machine only with the short suites at the tail.
 */
class SoakLastSequencer extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    const isSoak = (test) => test.path.endsWith('soak.test.ts');
    return [...ordered.filter((test) => !isSoak(test)), ...ordered.filter(isSoak)];
  }
}

module.exports = SoakLastSequencer;
