// Tacit as separate operating-system processes (`node --import tsx src/main.ts`, as `npm start` runs
// it), and a round-robin "load balancer" that skips a dead process the way a real one would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface TacitProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr (pino lines, one JSON object each). */
  output(): string;
  /** Its base URL once it logged "tacit started". */
  url: string;
  alive(): boolean;
}

/** Starts one process and resolves once it listens (its log line names the URL). */
export async function spawnTacit(env: Record<string, string>, what: string, timeoutMs = 45_000): Promise<TacitProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const url = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${out.slice(-2000)}`);
    return /"url":"(http:[^"]+)".*tacit started/.exec(out)?.[1];
  }, { what: `${what} to start`, timeoutMs, intervalMs: 100 });
  return { child, output: () => out, url, alive: () => child.exitCode === null && child.signalCode === null };
}

/** SIGTERM, and waits for the exit (SIGKILL after `graceMs`). */
export async function stopTacit(p: TacitProcess, graceMs = 20_000): Promise<void> {
  if (!p.alive()) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A request that failed at the network level (the process died under it) or was answered 502–504. */
export class BalancerError extends Error {
  override readonly name = 'BalancerError';
}

/**
 * Spreads requests over the live processes in turn. A request whose process dies under it (a reset,
 * a refused connection) or answers 503 is sent to the next live one, as a load balancer retries an
 * idempotent request; `attempts` tells how many processes saw it.
 */
export class Balancer {
  private next = 0;

  constructor(private readonly processes: readonly TacitProcess[]) {}

  async fetch(path: string, init: RequestInit): Promise<{ res: Response; attempts: number }> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.processes.length * 2; attempt++) {
      const live = this.processes.filter((p) => p.alive());
      const target = live[this.next++ % Math.max(live.length, 1)];
      if (!target) throw new BalancerError('no live Tacit process');
      try {
        const res = await fetch(`${target.url}${path}`, init);
        if (res.status !== 503) return { res, attempts: attempt };
        lastError = new BalancerError(`503 from ${target.url}: ${await res.text()}`);
      } catch (err) {
        lastError = err;
      }
    }
    throw new BalancerError(`no process answered ${path}: ${(lastError as Error).message}`);
  }
}
