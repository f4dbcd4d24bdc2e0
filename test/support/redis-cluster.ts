// A local Redis Cluster for a test: three masters (no replicas) on free loopback ports, created with
// `redis-cli --cluster create`, with BullMQ's noeviction and no persistence; stopped with the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { canConnect, freePort } from './net.js';
import { waitFor } from './wait.js';

export interface LocalCluster {
  ports: number[];
  /** REDIS_CLUSTER_NODES for Tacit. */
  nodes: string;
  stop(): Promise<void>;
}

/** The redis-server and redis-cli to use, or undefined when this machine has none. */
export function findRedisTools(): { server: string; cli: string } | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  const find = (name: string) => dirs.map((d) => join(d, name)).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  const server = find('redis-server');
  const cli = find('redis-cli');
  return server && cli ? { server, cli } : undefined;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

export async function startLocalCluster(tools: { server: string; cli: string }, masters = 3): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tacit-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      children.push(spawn(tools.server, [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
        '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
      ], { stdio: 'ignore' }));
    }
    for (const port of ports) await waitFor(() => canConnect(port), { what: `cluster node on ${port}` });
    const created = await run(tools.cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed: ${created.output}`);
    // Every node must agree the cluster is whole before a client's first slot map is right.
    for (const port of ports) {
      const node = new Redis(port, '127.0.0.1');
      try {
        await waitFor(async () => /cluster_state:ok/.test(String(await node.call('CLUSTER', 'INFO'))), { what: `cluster_state ok on ${port}`, timeoutMs: 20_000 });
      } finally {
        node.disconnect();
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
}
