import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Locks this process holds: a lock file naming our own pid is either one of these or left by a previous life of this pid. */
const heldByThisProcess = new Set<string>();

/**
 * One process at a time in an embedded database's directory: PGlite takes no lock of its own, and
 * two processes writing the same files corrupt them. The lock is a file beside the directory
 * (`<dir>.lock`) holding its owner's pid; one left by a process that has since died (killed,
 * crashed) is taken over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockPath = `${resolve(dataDir)}.lock`;
  if (heldByThisProcess.has(lockPath)) throw inUse(dataDir, process.pid, lockPath);
  mkdirSync(dirname(lockPath), { recursive: true });
  for (;;) {
    if (tryCreate(lockPath)) {
      heldByThisProcess.add(lockPath);
      return () => {
        if (heldByThisProcess.delete(lockPath)) rmSync(lockPath, { force: true });
      };
    }
    const owner = readOwner(lockPath);
    if (owner === undefined) continue; // released meanwhile
    // Our own pid (not held, see above) was a previous life of this pid: pid 1 in a container restarted in place.
    if (owner !== process.pid && isAlive(owner)) throw inUse(dataDir, owner, lockPath);
    rmSync(lockPath, { force: true });
  }
}

function inUse(dataDir: string, owner: number, lockPath: string): Error {
  return new Error(
    `the embedded database in ${dataDir} is in use by process ${owner}: stop it, or give this one another PGLITE_DATA_DIR ` +
      `(memory:// for one in memory); if that process is no gateway, remove ${lockPath}`,
  );
}

/** Writes the pid aside, then links it in: a lock never exists without its owner's pid in it. */
function tryCreate(lockPath: string): boolean {
  const claim = `${lockPath}.${process.pid}`;
  writeFileSync(claim, String(process.pid));
  try {
    linkSync(claim, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(claim, { force: true });
  }
}

function readOwner(lockPath: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
