// Runs test/fixtures/protocol-server as a child process (node, separate heap) and talks to it over
// its stdin/stdout: its port, its memory, whether it is still alive. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';

export const FIXTURE_PATH = fileURLToPath(new URL('../fixtures/protocol-server.js', import.meta.url));

export interface ServerStats {
  sessions: number;
  bound: number;
  requests: number;
  binds: number;
  handlerErrors: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Longest wait for the `{"port":N}` line (default 10 s). */
  startTimeoutMs?: number;
  /** Longest wait for the answer to one stdin command (default 5 s). */
  replyTimeoutMs?: number;
  /** Extra node flags (default ['--expose-gc']). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class ChildServer {
  port = 0;
  /** Set once the process has exited. */
  exit: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;
  private readonly replies: Array<{ resolve(line: string): void; reject(err: Error): void }> = [];
  private stderrTail = '';
  private portWaiter: { resolve(port: number): void; reject(err: Error): void } | undefined;

  private constructor(
    readonly proc: ChildProcess,
    private readonly replyTimeoutMs: number,
  ) {
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        const err = new Error(`protocol server exited (code ${code}, signal ${signal})\n${this.stderr}`);
        this.portWaiter?.reject(err);
        for (const r of this.replies.splice(0)) r.reject(err);
        resolve(this.exit);
      });
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-64 * 1024);
    });
    // stdin errors (EPIPE once the child is gone) surface as an exit instead.
    proc.stdin!.on('error', () => {});
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => this.onLine(line));
  }

  /** Spawns the fixture and resolves once it listens. */
  static async start(options: StartOptions = {}): Promise<ChildServer> {
    const proc = spawn(process.execPath, [...(options.execArgv ?? ['--expose-gc']), FIXTURE_PATH], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const child = new ChildServer(proc, options.replyTimeoutMs ?? 5_000);
    const port = new Promise<number>((resolve, reject) => (child.portWaiter = { resolve, reject }));
    try {
      child.port = await withTimeout(port, options.startTimeoutMs ?? 10_000, 'protocol server start');
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
    return child;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The last 64 KiB the child wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  get alive(): boolean {
    return this.exit === undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async memory(): Promise<NodeJS.MemoryUsage> {
    return JSON.parse(await this.ask('mem')) as NodeJS.MemoryUsage;
  }

  async stats(): Promise<ServerStats> {
    return JSON.parse(await this.ask('stats')) as ServerStats;
  }

  /** Runs a full GC in the child (it is started with --expose-gc); false when it cannot. */
  async gc(): Promise<boolean> {
    return (JSON.parse(await this.ask('gc')) as { gc: boolean }).gc;
  }

  /** Asserts the process has not exited and still answers on stdin; returns its memory. */
  async assertAlive(): Promise<NodeJS.MemoryUsage> {
    assert.equal(this.exit, undefined, `protocol server exited: ${JSON.stringify(this.exit)}\n${this.stderr}`);
    const mem = await this.memory();
    assert.ok(mem.rss > 0, 'memoryUsage answered');
    assert.ok(this.alive, 'still alive after answering');
    return mem;
  }

  /** Polls `stats` until `pred` holds, at most `tries` times over at most `ms`. */
  async waitForStats(pred: (s: ServerStats) => boolean, ms = 5_000, tries = 500): Promise<ServerStats> {
    const deadline = Date.now() + ms;
    let last = await this.stats();
    for (let i = 0; i < tries && !pred(last) && Date.now() < deadline; i++) {
      await new Promise((r) => setTimeout(r, 10));
      last = await this.stats();
    }
    return last;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with how it exited. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }

  private ask(cmd: string): Promise<string> {
    if (!this.alive) return Promise.reject(new Error(`protocol server is not running (${JSON.stringify(this.exit)})\n${this.stderr}`));
    const reply = new Promise<string>((resolve, reject) => this.replies.push({ resolve, reject }));
    this.proc.stdin!.write(`${cmd}\n`);
    return withTimeout(reply, this.replyTimeoutMs, `protocol server "${cmd}"`);
  }

  private onLine(line: string): void {
    if (this.portWaiter !== undefined) {
      const waiter = this.portWaiter;
      this.portWaiter = undefined;
      try {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        if (typeof port !== 'number') throw new Error('no port');
        waiter.resolve(port);
      } catch {
        waiter.reject(new Error(`protocol server: expected {"port":N}, got ${line}`));
      }
      return;
    }
    this.replies.shift()?.resolve(line);
  }
}

/** Starts the fixture server in a child process. */
export function startProtocolServer(options?: StartOptions): Promise<ChildServer> {
  return ChildServer.start(options);
}
