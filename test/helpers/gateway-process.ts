// Runs the gateway as a real child process (`smppgw start`) on free ports, with its SQLite file in
// a temp dir, and the operator CLI against the same file.
import type { GatewayStatus } from '../../src/status.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachLine } from './lines.js';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  smppPort: number;
  httpPort: number;
  db: string;
  /** JSON log lines seen so far. */
  logs: Array<Record<string, unknown>>;
  /** Waits for a log line matching `pred` (bounded). */
  waitLog(pred: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  status(): Promise<GatewayStatus>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export function tempDir(prefix = 'smppgw-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs an operator command (`account add …`) against `db`; throws with its stderr on failure.
 * Admin commands open only an existing database: provision a fresh path with `cli(db, 'init')`.
 */
export function cli(db: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args, '--db', db], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`smppgw ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export async function startGateway(db: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--db', db, '--port', '0', '--http-port', '0', ...extraArgs], {
    env: { ...process.env, SMPPGW_SMPP__HOST: '127.0.0.1', SMPPGW_HTTP__HOST: '127.0.0.1', SMPPGW_STORE__SYNCHRONOUS: 'normal', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  eachLine(child.stdout!, (line) => {
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      logs.push(obj);
      for (const w of waiters.splice(0)) {
        if (w.pred(obj)) w.resolve(obj);
        else waiters.push(w);
      }
    } catch {
      /* not a log line */
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
  // 'close' comes after 'exit' once stdout and stderr are read to the end, so no log line is missed.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const waitLog = (pred: (l: Record<string, unknown>) => boolean, ms = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find(pred);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`no such log line within ${ms} ms; stderr: ${stderr}; last logs: ${JSON.stringify(logs.slice(-5))}`)),
        ms,
      );
      waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited (${code}) before the log line; stderr: ${stderr}; last logs: ${JSON.stringify(logs.slice(-5))}`));
      });
    });
  const ready = await waitLog((l) => l.msg === 'smppgw ready');
  const httpPort = ready.http as number;
  return {
    child,
    smppPort: ready.smpp as number,
    httpPort,
    db,
    logs,
    waitLog,
    status: async () => (await (await fetch(`http://127.0.0.1:${httpPort}/status`, { signal: AbortSignal.timeout(5_000) })).json()) as GatewayStatus,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
