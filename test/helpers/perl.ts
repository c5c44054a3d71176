// Runs the Perl interop probes (scripts/interop/*.pl, built on Net::SMPP from the Debian package
// libnet-smpp-perl) as child processes: their stdout is JSON lines, read as they come; every run
// is killed after a deadline, and killAll() ends whatever a test left running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor of this file holding scripts/interop. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'interop', 'netsmpp-client.pl'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find scripts/interop above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const REPO_ROOT = findRoot();

export function interopScript(name: string): string {
  return path.join(REPO_ROOT, 'scripts', 'interop', name);
}

export interface PerlCheck {
  ok: boolean;
  /** Why not, when not ok. */
  reason: string;
}

/** Is `perl -MNet::SMPP -e1` happy? */
export function checkNetSmpp(): PerlCheck {
  const r = spawnSync('perl', ['-MNet::SMPP', '-e1'], { timeout: 10_000, encoding: 'utf8' });
  if (r.error) return { ok: false, reason: `cannot run perl: ${r.error.message}` };
  if (r.status !== 0) {
    const why = (r.stderr ?? '')
      .trim()
      .split('\n')[0]!
      .replace(/ \(@INC contains:.*$/, '');
    return { ok: false, reason: `perl -MNet::SMPP -e1 exited ${r.status ?? r.signal}: ${why}` };
  }
  return { ok: true, reason: '' };
}

/** CI is set (and not to 0/false). */
export function inCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** One line the script printed: `ev` names the event; the rest is the event's data. */
export type Line = { ev: string; [key: string]: unknown };

export interface PerlExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  lines: Line[];
  stderr: string;
}

const running = new Set<PerlRun>();

/** A running Perl script. */
export class PerlRun {
  readonly lines: Line[] = [];
  stderr = '';
  readonly exited: Promise<PerlExit>;
  private readonly child: ChildProcess;
  private readonly events = new EventEmitter();
  private done = false;
  private timedOut = false;
  private partial = '';

  constructor(
    readonly script: string,
    readonly args: string[],
    readonly timeoutMs = 10_000,
  ) {
    this.child = spawn('perl', [interopScript(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.done) return;
        clearTimeout(timer);
        if (this.partial !== '') this.onLine(this.partial);
        this.partial = '';
        this.done = true;
        running.delete(this);
        this.events.emit('exit');
        resolve({ code, signal, timedOut: this.timedOut, lines: this.lines, stderr: this.stderr });
      };
      this.child.on('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        finish(null, null);
      });
      this.child.on('close', finish);
    });
  }

  /** The first line (already printed or still to come) that matches; rejects on exit or timeout. */
  waitFor(match: (l: Line) => boolean, what: string, timeoutMs = 8_000): Promise<Line> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('line', onLine);
        this.events.off('exit', onExit);
      };
      const onLine = (l: Line) => {
        if (!match(l)) return;
        cleanup();
        resolve(l);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`${this.script} exited before ${what}\n${this.describe()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.script}: no ${what} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      this.events.on('line', onLine);
      if (this.done) onExit();
      else this.events.on('exit', onExit);
    });
  }

  /** Waits for the exit and insists on code 0. */
  async success(): Promise<PerlExit> {
    const r = await this.exited;
    if (r.code !== 0)
      throw new Error(
        `${this.script} ${this.args.join(' ')} failed (code ${r.code}, signal ${r.signal}${r.timedOut ? ', timed out' : ''})\n${this.describe()}`,
      );
    return r;
  }

  kill(): void {
    if (!this.done) this.child.kill('SIGKILL');
  }

  /** Output for failure messages. */
  describe(): string {
    return `stdout:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr}`;
  }

  private onStdout(chunk: string): void {
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const text = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.onLine(text);
    }
  }

  private onLine(text: string): void {
    if (text.trim() === '') return;
    let line: Line;
    try {
      const parsed: unknown = JSON.parse(text);
      line = parsed !== null && typeof parsed === 'object' && typeof (parsed as Line).ev === 'string' ? (parsed as Line) : { ev: 'raw', text };
    } catch {
      line = { ev: 'raw', text };
    }
    this.lines.push(line);
    this.events.emit('line', line);
  }
}

/** Kills every script still running (for `after` hooks); resolves once they are gone. */
export async function killAll(): Promise<void> {
  const all = [...running];
  for (const r of all) r.kill();
  await Promise.all(all.map((r) => r.exited));
}
