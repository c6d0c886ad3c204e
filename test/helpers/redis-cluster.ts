import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort, RedisServer } from './redis-server';

const run = promisify(execFile);

/**
 * A Redis Cluster of the test's own: masters without replicas on free ports, created with
 * `redis-cli --cluster create`. Each node keeps its nodes file in its own folder, so a node that
 * is killed and restarted rejoins with its slots. Full coverage is not required, so that the
 * other masters keep serving while one is down, as a production cluster would during a failover.
 */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes = await Promise.all(
      Array.from({ length: masters }, async () => {
        const busPort = await freePort();
        return RedisServer.start({
          args: ({ dir }) => [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', join(dir, 'nodes.conf'),
            '--cluster-port', String(busPort),
            '--cluster-node-timeout', '1000',
            '--cluster-require-full-coverage', 'no',
          ],
        });
      }),
    );
    const cluster = new RedisCluster(nodes);
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await cluster.waitUntilHealthy();
    return cluster;
  }

  /** `REDIS_CLUSTER_NODES` naming every node. */
  get seeds(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** Resolves when every node sees all 16384 slots served and the cluster state ok. */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    const started = Date.now();
    for (;;) {
      const infos = await Promise.all(this.nodes.map((node) => node.cli('CLUSTER', 'INFO').catch(() => '')));
      if (infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) return;
      if (Date.now() - started > timeoutMs) throw new Error(`cluster not healthy after ${timeoutMs} ms:\n${infos.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Keys this node holds under a prefix (SCAN, so a big node is never blocked). */
  async keysOn(node: RedisServer, pattern: string): Promise<string[]> {
    const output = await node.cli('--scan', '--pattern', pattern);
    return output.split('\n').filter((line) => line !== '');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}
