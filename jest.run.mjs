// `npm test`: every suite. Without a path, the suites run in parallel first, then the reliability
// suites (chaos, soak) one at a time on a machine left to them: they measure throughput, latency
// and memory from inside their Jest worker, which another worker compiling and running suites
// beside them starves (a soak sent half its planned traffic that way in a fresh CI clone). With a
// path (`npm test -- test/unit/config.test.ts`), Jest runs just what was asked, as usual.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const jest = (extra) =>
  spawnSync(process.execPath, ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', 'node_modules/jest/bin/jest.js', ...extra], { stdio: 'inherit' }).status ?? 1;

if (args.some((arg) => !arg.startsWith('-'))) process.exit(jest(args));
const suites = jest([...args, '--testPathIgnorePatterns', '/test/reliability/']);
// RELIABILITY=skip leaves them out: .ci/run runs them on one of its two runtimes (README: Scripts).
const reliability = process.env.RELIABILITY === 'skip' ? 0 : jest([...args, '--runInBand', 'test/reliability']);
process.exit(suites === 0 ? reliability : suites);
