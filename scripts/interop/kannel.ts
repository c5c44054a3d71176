#!/usr/bin/env node
// Interop with Kannel 1.4.5 (Debian package `kannel`): Kannel's bearerbox binds to smppgw as its
// SMSC (one SMPP transceiver, account `kannel`), smppgw routes to the bundled SMSC simulator
// (src/sim/smsc.ts, in this process). Checked end to end:
//   MT:  Kannel sendsms (HTTP) → bearerbox → submit_sm → smppgw → submit_sm → simulator
//   DLR: simulator deliver_sm receipt → smppgw → deliver_sm receipt (smppgw's own id) → bearerbox
//        → smsbox → the dlr-url (type 1 = delivered) on our HTTP sink
//   MO:  simulator deliver_sm to 12345 → smppgw MO route → bearerbox → smsbox sms-service get-url
// Everything runs on 127.0.0.1 in a temp dir that is removed afterwards; every wait is bounded.
//
//   node dist/scripts/interop/kannel.js [--timeout MS] [--keep] [--no-mo] [--count N] [--bin-dir DIR] [--dlr-delay MS]
//
// Prints one JSON summary on stdout (progress on stderr); exit 0 when every check passed, 1 when
// one failed (with the tails of the logs on stderr), 2 when Kannel is not installed.
// docs/interop.md explains the Kannel configuration written here.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsc, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmscSimulator, type SmscEvent } from '../../src/sim/smsc.js';

// ---- options and result ---------------------------------------------------------------------------

export interface KannelInteropOptions {
  /** Where bearerbox and smsbox are (default: $KANNEL_BIN_DIR, /usr/sbin, /usr/local/sbin, then PATH). */
  binDir?: string;
  /** Deadline for the whole run, shutdown excluded (default 45 s). */
  timeoutMs?: number;
  /** Leave the temp dir in place (its path is in the summary). */
  keep?: boolean;
  /** Also check an MO from the simulator reaching Kannel's sms-service (default true). */
  mo?: boolean;
  /** MTs to send through sendsms (default 20: smppgw's hex ids reach "10".."14"). */
  count?: number;
  /** Simulator delay from submit_sm_resp to receipt (default 300 ms). */
  dlrDelayMs?: number;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
  /** Aborts the run (shutdown still happens). */
  signal?: AbortSignal;
}

/** The checks, by stable id (tests look them up by id; `name` says what was checked). */
export const CHECK_IDS = [
  'setup',
  'gateway-connector',
  'mo-queued',
  'kannel-online',
  'sendsms',
  'sim-mt',
  'dlr-delivered',
  'dlr-text',
  'dlr-ids',
  'dlr-ack',
  'sim-receipts',
  'mo',
  'mo-after-bind-resp',
  'shutdown',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface Check {
  id: CheckId;
  name: string;
  ok: boolean;
  detail?: unknown;
}

export interface ExitReport {
  code: number | null;
  signal: string | null;
  /** SIGKILLed after the grace period. */
  killed: boolean;
  ms: number;
}

export interface KannelInteropResult {
  ok: boolean;
  kannelVersion: string | undefined;
  elapsedMs: number;
  dir: string;
  ports: Record<string, number>;
  checks: Check[];
  /** The first failure, if any. */
  error?: string;
  mt?: {
    count: number;
    from: string;
    first: { ref: string; to: string; text: string };
    sendsms: { status: number; body: string };
    simulatorMessageId?: string;
  };
  dlrs: Array<Record<string, string>>;
  mo?: { sent?: { from: string; to: string; text: string }; received?: Record<string, string>; msAfterAccountOpened?: number };
  simulator?: Record<string, unknown>;
  shutdown: Record<string, ExitReport>;
  /** Last lines of each log, when something failed. */
  logTails?: Record<string, string>;
}

const ACCOUNT = 'kannel';
const ACCOUNT_PASSWORD = 'secret';
const CONNECTOR = 'sim';
const SIM_SYSTEM_ID = 'gw';
const SIM_PASSWORD = 'pw';
const SHORT_CODE = '12345';
/** Account allow-lists: no bind from Kannel (127.0.0.1) while Kannel starts, then Kannel's address. */
const GATE_CLOSED = '127.0.0.2/32';
const GATE_OPEN = '127.0.0.1/32';
const SMSC_ID = 'smppgw';
const SENDSMS_USER = 'tester';
const SENDSMS_PASSWORD = 'foobar';
const ADMIN_PASSWORD = 'adminpw';
const MT_TO_PREFIX = '49170987654';
const MT_TEXT = 'Kannel MT';
const MO_FROM = '4917012345678';
const MO_TEXT = 'KANNEL MO TEST';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/scripts/interop → dist/src/cli.js */
const GATEWAY_CLI = path.resolve(here, '../../src/cli.js');

// ---- small helpers --------------------------------------------------------------------------------

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Thrown from a probe: stop waiting at once (a process died), instead of polling on. */
class Fatal extends Error {}
/** A wait that ran out of time. */
class Timeout extends Error {}

class Deadline {
  private readonly end: number;
  constructor(
    ms: number,
    private readonly signal?: AbortSignal,
  ) {
    this.end = Date.now() + ms;
  }
  get left(): number {
    return Math.max(0, this.end - Date.now());
  }
  /** Polls `probe` until it returns a value (not undefined), at most `ms` (and the deadline). */
  async until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = this.left, everyMs = 100): Promise<T> {
    const budget = Math.min(ms, this.left);
    const stop = Date.now() + budget;
    let lastErr: unknown;
    for (;;) {
      if (this.signal?.aborted) throw new Error(`aborted while waiting for ${what}`);
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (err) {
        if (err instanceof Fatal) throw err;
        lastErr = err;
      }
      if (Date.now() >= stop) {
        throw new Timeout(
          `${what}: not within ${budget} ms${budget < ms ? " (the run's deadline)" : ''}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`,
        );
      }
      await sleep(Math.min(everyMs, Math.max(1, stop - Date.now())), this.signal);
    }
  }
}

/** `count` distinct free TCP ports on 127.0.0.1 (held together, then released for Kannel to take). */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** bearerbox and smsbox, or undefined when Kannel is not installed. */
export function findKannel(binDir?: string): { bearerbox: string; smsbox: string } | undefined {
  const dirs = [binDir, process.env.KANNEL_BIN_DIR, '/usr/sbin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(path.delimiter)].filter(
    (d): d is string => !!d,
  );
  for (const dir of dirs) {
    const bearerbox = path.join(dir, 'bearerbox');
    const smsbox = path.join(dir, 'smsbox');
    if (isExecutable(bearerbox) && isExecutable(smsbox)) return { bearerbox, smsbox };
  }
  return undefined;
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr: stderr || err.message });
    });
  });
}

function tail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch (err) {
    return `(cannot read ${file}: ${(err as Error).message})`;
  }
}

// ---- child processes ------------------------------------------------------------------------------

class Child {
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  exit: { code: number | null; signal: string | null } | undefined;
  private readonly out: WriteStream;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly logFile: string,
    onLine?: (line: string) => void,
  ) {
    this.out = createWriteStream(logFile, { flags: 'a' });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      proc.once('error', (err) => {
        this.out.write(`[spawn error] ${err.message}\n`);
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    let partial = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (s: string) => {
      this.out.write(s);
      if (!onLine) return;
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (s: string) => this.out.write(s));
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM; SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<ExitReport> {
    const t0 = Date.now();
    let killed = false;
    if (this.alive) {
      this.proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (this.alive) {
            killed = true;
            this.proc.kill('SIGKILL');
          }
          resolve();
        }, graceMs);
      });
      await Promise.race([this.exited, overdue]);
      clearTimeout(timer);
      // After SIGKILL the exit event follows promptly; bounded anyway.
      await Promise.race([this.exited, sleep(2_000)]);
    }
    await new Promise<void>((r) => this.out.end(() => r()));
    const e = this.exit ?? { code: null, signal: 'unknown' };
    return { code: e.code, signal: e.signal, killed, ms: Date.now() - t0 };
  }
}

// ---- the HTTP sink for dlr-url and get-url ----------------------------------------------------------

interface Hit {
  path: string;
  query: Record<string, string>;
  at: number;
}

async function startSink(): Promise<{ server: Server; port: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    hits.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), at: Date.now() });
    // An empty 200: smsbox sends no reply SMS for it (max-messages = 0 on the service anyway).
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '0' }).end();
    req.resume();
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port, hits };
}

// ---- configuration --------------------------------------------------------------------------------

export interface KannelConfParams {
  dir: string;
  adminPort: number;
  smsboxPort: number;
  sendsmsPort: number;
  gatewayPort: number;
  sinkPort: number;
}

/** kannel.conf for one bearerbox + one smsbox talking to smppgw (docs/interop.md explains each line). */
export function kannelConf(p: KannelConfParams): string {
  const q = (s: string) => `"${s}"`;
  return `# Written by scripts/interop/kannel.ts for one run; see docs/interop.md.
group = core
admin-port = ${p.adminPort}
admin-interface = 127.0.0.1
admin-password = ${ADMIN_PASSWORD}
status-password = ${ADMIN_PASSWORD}
admin-allow-ip = "127.0.0.1"
smsbox-port = ${p.smsboxPort}
box-allow-ip = "127.0.0.1"
log-file = ${q(path.join(p.dir, 'bearerbox.log'))}
log-level = 0
access-log = ${q(path.join(p.dir, 'access.log'))}
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = ${SMSC_ID}
host = 127.0.0.1
port = ${p.gatewayPort}
transceiver-mode = true
smsc-username = ${ACCOUNT}
smsc-password = ${ACCOUNT_PASSWORD}
system-type = ""
interface-version = 34
msg-id-type = 0x03
enquire-link-interval = 30
reconnect-delay = 1
max-pending-submits = 10
log-file = ${q(path.join(p.dir, 'smsc-smppgw.log'))}
log-level = 0

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${p.smsboxPort}
sendsms-port = ${p.sendsmsPort}
sendsms-interface = 127.0.0.1
log-file = ${q(path.join(p.dir, 'smsbox.log'))}
log-level = 0
access-log = ${q(path.join(p.dir, 'smsbox-access.log'))}

group = sendsms-user
username = ${SENDSMS_USER}
password = ${SENDSMS_PASSWORD}
user-allow-ip = "127.0.0.1"
max-messages = 1
concatenation = false

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "http://127.0.0.1:${p.sinkPort}/mo?from=%p&to=%P&text=%a&smsc=%i&coding=%c"
`;
}

/** The dlr-url given with MT number `ref`: %d type, %A receipt text, %F the SMSC's (smppgw's) id, %I Kannel's id. */
function dlrUrl(sinkPort: number, ref: string): string {
  return `http://127.0.0.1:${sinkPort}/dlr?ref=${ref}&type=%d&text=%A&smscid=%F&kannelid=%I&from=%p&to=%P&smsc=%i&ts=%T`;
}

// ---- the run --------------------------------------------------------------------------------------

export async function runKannelInterop(options: KannelInteropOptions = {}): Promise<KannelInteropResult> {
  const t0 = Date.now();
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const say = (line: string) => progress(`[kannel-interop +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const dl = new Deadline(options.timeoutMs ?? 45_000, options.signal);
  const wantMo = options.mo ?? true;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'smppgw-kannel-'));
  const result: KannelInteropResult = { ok: false, kannelVersion: undefined, elapsedMs: 0, dir, ports: {}, checks: [], dlrs: [], shutdown: {} };
  const check = (id: CheckId, name: string, ok: boolean, detail?: unknown): boolean => {
    result.checks.push({ id, name, ok, ...(detail !== undefined ? { detail } : {}) });
    say(`${ok ? 'ok  ' : 'FAIL'} ${id}: ${name}${detail !== undefined && !ok ? ` ${JSON.stringify(detail)}` : ''}`);
    if (!ok && result.error === undefined) result.error = `${id}: ${name}`;
    return ok;
  };

  const children: Child[] = [];
  let sim: SmscSimulator | undefined;
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;
  const logs: Record<string, string> = {};

  try {
    const kannel = findKannel(options.binDir);
    if (!kannel)
      throw Object.assign(new Error('Kannel is not installed: bearerbox/smsbox not found (install the Debian package `kannel`)'), { notInstalled: true });
    const version = await run(kannel.bearerbox, ['--version'], 10_000);
    result.kannelVersion = /version `([^']+)'/.exec(version.stdout + version.stderr)?.[1];
    say(`Kannel ${result.kannelVersion ?? '(unknown version)'} at ${path.dirname(kannel.bearerbox)}; dir ${dir}`);
    if (!existsSync(GATEWAY_CLI)) throw new Error(`${GATEWAY_CLI} is missing: build first (npx tsc -p .)`);

    // 1. The carrier: the bundled SMSC simulator, in this process.
    const simEvents: SmscEvent[] = [];
    sim = new SmscSimulator({
      host: '127.0.0.1',
      port: 0,
      systemId: SIM_SYSTEM_ID,
      password: SIM_PASSWORD,
      dlrDelayMs: options.dlrDelayMs ?? 300,
      dlrStat: 'DELIVRD=100',
      ...(wantMo ? { moRate: 5, moCount: 1, moSystemId: SIM_SYSTEM_ID, moFrom: MO_FROM, moTo: [SHORT_CODE], moText: [MO_TEXT] } : {}),
    });
    sim.on('event', (ev: SmscEvent) => simEvents.push(ev));
    const simAddr = await sim.start();
    result.ports.simulator = simAddr.port;
    say(`simulator listening on ${simAddr.port}`);

    // 2. The gateway's tables, with its own CLI, then the gateway.
    const db = path.join(dir, 'smppgw.db');
    const gwConfig = path.join(dir, 'smppgw.yaml');
    writeFileSync(
      gwConfig,
      `smpp:\n  host: 127.0.0.1\nhttp:\n  host: 127.0.0.1\nstore:\n  synchronous: normal\n  reloadMs: 200\nshutdown:\n  deadlineMs: 2000\n`,
    );
    const admin = async (...args: string[]) => {
      const r = await run(process.execPath, [GATEWAY_CLI, ...args, '--db', db, '--config', gwConfig], Math.min(20_000, Math.max(1_000, dl.left)));
      if (r.code !== 0) throw new Error(`smppgw ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    };
    // The account starts closed to Kannel's address (binds refused with ESME_RBINDFAIL, after which
    // Kannel retries every reconnect-delay): it is opened with the CLI, while smppgw runs, once
    // bearerbox and smsbox are both up. So the queued MO cannot go to a Kannel that is started
    // again on other ports, and the bind happens with smsbox ready to take it.
    await admin('init');
    await admin('account', 'add', ACCOUNT, '--password', ACCOUNT_PASSWORD, '--allow', GATE_CLOSED);
    await admin('connector', 'add', CONNECTOR, '--host', '127.0.0.1', '--port', String(simAddr.port), '--system-id', SIM_SYSTEM_ID, '--password', SIM_PASSWORD);
    await admin('route', 'add', 'mt', '--connector', CONNECTOR);
    await admin('route', 'add', 'mo', '--account', ACCOUNT, '--short-code', SHORT_CODE);
    say('gateway db ready (account, connector, MT and MO routes)');

    let ready: { smpp: number; http: number } | undefined;
    const gwLog = path.join(dir, 'smppgw.log');
    logs.smppgw = gwLog;
    const gw = new Child(
      'smppgw',
      spawn(process.execPath, [GATEWAY_CLI, 'start', '--config', gwConfig, '--db', db, '--port', '0', '--http-port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env },
      }),
      gwLog,
      (line) => {
        if (ready !== undefined || !line.includes('smppgw ready')) return;
        try {
          const j = JSON.parse(line) as { smpp?: number; http?: number };
          if (typeof j.smpp === 'number' && typeof j.http === 'number') ready = { smpp: j.smpp, http: j.http };
        } catch {
          /* not JSON */
        }
      },
    );
    children.push(gw);
    const gwPorts = await dl.until(
      'smppgw ready',
      () => {
        if (!gw.alive) throw new Fatal(`smppgw exited ${JSON.stringify(gw.exit)}`);
        return ready;
      },
      15_000,
      50,
    );
    result.ports.smppgwSmpp = gwPorts.smpp;
    result.ports.smppgwHttp = gwPorts.http;
    say(`smppgw ready: SMPP ${gwPorts.smpp}, HTTP ${gwPorts.http}`);
    const gwStatus = async () => {
      const res = await fetch(`http://127.0.0.1:${gwPorts.http}/status`, { signal: AbortSignal.timeout(2_000) });
      return (await res.json()) as { binds?: Record<string, string[]>; connectors?: Record<string, { up?: boolean }> };
    };
    await dl.until('smppgw bound to the simulator', async () => ((await gwStatus()).connectors?.[CONNECTOR]?.up ? true : undefined), 10_000);
    check('gateway-connector', 'smppgw connector bound to the simulator', true);

    // The MO is made as soon as smppgw binds to the simulator, and waits in smppgw's outbox for
    // account kannel: Kannel's bind makes smppgw send it at once (see mo-after-bind-resp).
    let moSent: Extract<SmscEvent, { type: 'mo' }> | undefined;
    if (wantMo) {
      moSent = await dl.until(
        'simulator MO acknowledged by smppgw',
        () => simEvents.find((e): e is Extract<SmscEvent, { type: 'mo' }> => e.type === 'mo'),
        10_000,
        20,
      );
      result.mo = { sent: { from: moSent.from, to: moSent.to, text: moSent.text } };
      check('mo-queued', 'MO to the short code taken by smppgw before Kannel binds (queued for account kannel)', moSent.status === 0, moSent);
    }

    // 3. Kannel.
    sink = await startSink();
    result.ports.httpSink = sink.port;
    const conf = path.join(dir, 'kannel.conf');
    for (const f of ['bearerbox.log', 'smsc-smppgw.log', 'smsbox.log', 'bearerbox.out', 'smsbox.out'])
      logs[f.replace(/\.(log|out)$/, (m) => (m === '.out' ? '-stdout' : ''))] = path.join(dir, f);
    // Kannel takes fixed ports from its config: free ones are picked just before, and when one was
    // taken in between (bearerbox or smsbox exits), Kannel is started again on others (3 tries).
    let bb: Child | undefined;
    let sb: Child | undefined;
    let adminPort = 0;
    let sendsmsPort = 0;
    for (let attempt = 1; ; attempt++) {
      const [a, b, h] = (await freePorts(3)) as [number, number, number];
      [adminPort, sendsmsPort] = [a, h];
      Object.assign(result.ports, { kannelAdmin: a, kannelSmsbox: b, kannelSendsms: h });
      writeFileSync(conf, kannelConf({ dir, adminPort: a, smsboxPort: b, sendsmsPort: h, gatewayPort: gwPorts.smpp, sinkPort: sink.port }));
      const started: Child[] = [];
      try {
        bb = new Child(
          'bearerbox',
          spawn(kannel.bearerbox, ['-v', '1', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }),
          path.join(dir, 'bearerbox.out'),
        );
        started.push(bb);
        children.push(bb);
        const bearerbox = bb;
        await dl.until(
          'bearerbox listening (admin and smsbox ports)',
          async () => {
            if (!bearerbox.alive) throw new Fatal(`bearerbox exited ${JSON.stringify(bearerbox.exit)}`);
            // The admin port answers as Kannel (not some other process that took the port).
            const status = await fetch(`http://127.0.0.1:${a}/status.txt?password=${ADMIN_PASSWORD}`, { signal: AbortSignal.timeout(2_000) }).then((r) =>
              r.text(),
            );
            return status.includes('Kannel bearerbox') && (await canConnect(b)) ? true : undefined;
          },
          8_000,
        );
        sb = new Child('smsbox', spawn(kannel.smsbox, ['-v', '1', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), path.join(dir, 'smsbox.out'));
        started.push(sb);
        children.push(sb);
        const smsbox = sb;
        await dl.until(
          'smsbox listening (sendsms port)',
          async () => {
            if (!smsbox.alive) throw new Fatal(`smsbox exited ${JSON.stringify(smsbox.exit)}`);
            if (!bearerbox.alive) throw new Fatal(`bearerbox exited ${JSON.stringify(bearerbox.exit)}`);
            // sendsms without credentials: Kannel's HTTP server refuses it (403), naming itself.
            const res = await fetch(`http://127.0.0.1:${h}/cgi-bin/sendsms`, { signal: AbortSignal.timeout(2_000) });
            await res.arrayBuffer();
            return res.headers.get('server')?.startsWith('Kannel/') ? true : undefined;
          },
          8_000,
        );
        say(`bearerbox and smsbox up (admin ${a}, smsbox ${b}, sendsms ${h})`);
        break;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof Fatal || err instanceof Timeout)) throw err;
        say(`Kannel did not start (${(err as Error).message}): again on other ports`);
        for (const c of started.reverse()) {
          await c.stop(3_000);
          children.splice(children.indexOf(c), 1);
        }
      }
    }
    const kb = bb!;
    const ks = sb!;
    await admin('account', 'set', ACCOUNT, '--allow', GATE_OPEN);
    const openedAt = Date.now();
    say(`account ${ACCOUNT} opened to ${GATE_OPEN} (smppgw account set, live reload)`);

    // 4. The SMSC link: online in Kannel's status, and a bound_trx of account kannel at the gateway.
    const kannelStatus = async () => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/status.txt?password=${ADMIN_PASSWORD}`, { signal: AbortSignal.timeout(2_000) });
      return res.text();
    };
    const online = await dl.until(
      'Kannel SMSC link online and bound at smppgw',
      async () => {
        if (!kb.alive) throw new Fatal(`bearerbox exited ${JSON.stringify(kb.exit)}`);
        const [st, gws] = await Promise.all([kannelStatus(), gwStatus()]);
        const lines = st.split('\n');
        const smsc = lines.find((l) => l.includes(`${SMSC_ID}[${SMSC_ID}]`));
        const box = lines.find((l) => /^\s*smsbox:/.test(l) && l.includes('on-line'));
        return smsc && /\(online /.test(smsc) && box && (gws.binds?.[ACCOUNT] ?? []).includes('bound_trx')
          ? { smsc: smsc.trim(), smsbox: box.trim(), binds: gws.binds }
          : undefined;
      },
      20_000,
      200,
    );
    check('kannel-online', 'Kannel SMSC link online (bind_transceiver as account kannel, bound_trx at smppgw)', true, online);

    // 5. MTs through sendsms, each with its own dlr-url (ref=N). Twenty of them, so smppgw's hex
    // ids run past 9: "a".."f" and the all-digit "10".."14" that read differently as decimal.
    const count = Math.max(1, options.count ?? 20);
    const mts = Array.from({ length: count }, (_, i) => ({
      ref: String(i + 1),
      to: `${MT_TO_PREFIX}${String(i + 1).padStart(2, '0')}`,
      text: `${MT_TEXT} ${String(i + 1).padStart(2, '0')}`,
    }));
    const answers: Array<{ status: number; body: string }> = [];
    for (const mt of mts) {
      const qs = new URLSearchParams({
        username: SENDSMS_USER,
        password: SENDSMS_PASSWORD,
        smsc: SMSC_ID,
        from: SHORT_CODE,
        to: mt.to,
        text: mt.text,
        'dlr-mask': '31',
        'dlr-url': dlrUrl(sink.port, mt.ref),
      });
      answers.push(
        await dl.until(
          'smsbox sendsms answering',
          async () => {
            if (!ks.alive) throw new Fatal(`smsbox exited ${JSON.stringify(ks.exit)}`);
            const res = await fetch(`http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms?${qs}`, { signal: AbortSignal.timeout(5_000) });
            return { status: res.status, body: (await res.text()).trim() };
          },
          15_000,
          200,
        ),
      );
    }
    result.mt = { count, from: SHORT_CODE, first: mts[0]!, sendsms: answers[0]! };
    const refused = answers.filter((a) => a.status !== 202);
    check('sendsms', `sendsms accepted ${count} MTs (202 "0: Accepted for delivery")`, refused.length === 0, refused.length ? refused : answers[0]);

    // 6. The simulator gets every MT from smppgw, destination and text as sent to sendsms.
    const submits = () => simEvents.filter((e): e is Extract<SmscEvent, { type: 'submit' }> => e.type === 'submit' && e.outcome === 'accepted');
    await dl.until(`simulator received ${count} MTs`, () => (submits().length >= count ? true : undefined), 15_000, 50).catch(() => undefined);
    const got = submits().map((e) => {
      const [source, destination, text] = e.key.split('\u0000');
      return { systemId: e.systemId, source, destination, text, messageId: e.messageId };
    });
    const missing = mts.filter(
      (mt) => !got.some((g) => g.systemId === SIM_SYSTEM_ID && g.source === SHORT_CODE && g.destination === mt.to && g.text === mt.text),
    );
    result.mt.simulatorMessageId = got[0]?.messageId;
    check(
      'sim-mt',
      `simulator received all ${count} MTs from smppgw (source, destination and text as sent)`,
      missing.length === 0 && got.length === count,
      missing.length || got.length !== count ? { missing, received: got.length } : got[0],
    );

    // 7. Every receipt reaches its dlr-url as type 1 (delivered), matched to the right message.
    const dlrHits = () => sink!.hits.filter((h) => h.path === '/dlr');
    await dl
      .until(
        `dlr-url called with types 8 and 1 for all ${count} MTs`,
        () => (mts.every((mt) => ['1', '8'].every((type) => dlrHits().some((h) => h.query.ref === mt.ref && h.query.type === type))) ? true : undefined),
        20_000,
        50,
      )
      .catch(() => undefined);
    result.dlrs = dlrHits().map((h) => h.query);
    const delivered = mts.map((mt) => ({ mt, hit: result.dlrs.find((d) => d.ref === mt.ref && d.type === '1') }));
    const noDlr = delivered.filter((d) => d.hit === undefined).map((d) => d.mt.ref);
    check(
      'dlr-delivered',
      `dlr-url called with type 1 (delivered) for all ${count} MTs`,
      noDlr.length === 0,
      noDlr.length ? { missing: noDlr, got: result.dlrs } : delivered[0]!.hit,
    );
    // The receipt text is smppgw's (its id, stat:DELIVRD, the first 20 characters of this MT).
    const wrongText = delivered.filter(
      (d) => d.hit && !(/stat:DELIVRD/.test(d.hit.text ?? '') && (d.hit.text ?? '').endsWith(`text:${d.mt.text.slice(0, 20)}`)),
    );
    check(
      'dlr-text',
      'each receipt text says stat:DELIVRD and quotes its own MT (text: field)',
      wrongText.length === 0,
      wrongText.map((d) => ({ mt: d.mt, dlr: d.hit })),
    );
    // msg-id-type 0x03: Kannel read smppgw's hex ids as hex in submit_sm_resp and in the receipt and
    // keeps them in decimal (%F): %F must be the receipt's id read as hex, never the carrier's id.
    const carrierIds = new Set(got.map((g) => g.messageId));
    const ids = delivered
      .filter((d) => d.hit)
      .map((d) => {
        const receiptId = /(?:^|\s)id:(\S+)/.exec(d.hit!.text ?? '')?.[1] ?? '';
        const asDec = /^[0-9a-f]+$/i.test(receiptId) ? BigInt(`0x${receiptId}`).toString(10) : undefined;
        return { ref: d.mt.ref, receiptId, kannelForeignId: d.hit!.smscid, ok: asDec !== undefined && asDec === d.hit!.smscid && !carrierIds.has(receiptId) };
      });
    const distinct = new Set(ids.map((i) => i.receiptId)).size === ids.length;
    check(
      'dlr-ids',
      "receipts carry smppgw's own hex ids, matched by Kannel with msg-id-type 0x03 (%F = id read as hex)",
      ids.length > 0 && distinct && ids.every((i) => i.ok),
      {
        ids: ids.map((i) => `${i.receiptId}=${i.kannelForeignId}`).join(' '),
        ...(ids.every((i) => i.ok) ? {} : { wrong: ids.filter((i) => !i.ok) }),
      },
    );
    const acks = mts.filter((mt) => result.dlrs.some((d) => d.ref === mt.ref && d.type === '8'));
    check('dlr-ack', 'dlr-url called with type 8 (SMSC accepted) for every MT (dlr-mask bit 8)', acks.length === count, { acks: acks.length });
    await dl
      .until('simulator receipts acknowledged', () => (simEvents.filter((e) => e.type === 'receipt').length >= count ? true : undefined), 5_000, 50)
      .catch(() => undefined);
    const rcpts = simEvents.filter((e): e is Extract<SmscEvent, { type: 'receipt' }> => e.type === 'receipt');
    check('sim-receipts', `simulator receipts (${count}) acknowledged by smppgw`, rcpts.length === count && rcpts.every((r) => r.status === 0), {
      receipts: rcpts.length,
      refused: rcpts.filter((r) => r.status !== 0),
    });

    // 8. The MO to the short code reaches Kannel's sms-service.
    if (wantMo && moSent) {
      const hit = await dl.until('sms-service get-url called with the MO', () => sink!.hits.find((h) => h.path === '/mo'), 15_000, 50);
      result.mo = { ...result.mo, received: hit.query, msAfterAccountOpened: hit.at - openedAt };
      check(
        'mo',
        "MO from the simulator reached Kannel's sms-service (get-url: sender, short code, text)",
        (hit.query.from ?? '').replace(/^\+/, '') === MO_FROM && hit.query.to === SHORT_CODE && hit.query.text === MO_TEXT,
        { sent: result.mo.sent, received: hit.query },
      );
      // A deliver_sm written before bind_transceiver_resp is dropped by Kannel ("SMSC sent
      // deliver_sm PDU while session not bound, ignored") and unanswered: smppgw gets it through
      // only after its response timeout (10 s) and a retry.
      const dropped = readFileSync(path.join(dir, 'smsc-smppgw.log'), 'utf8')
        .split('\n')
        .filter((l) => /deliver_sm PDU while session not bound/.test(l));
      check(
        'mo-after-bind-resp',
        'MO queued before the bind is sent after bind_transceiver_resp (not dropped by Kannel as "not bound"), within 5 s of opening the account',
        dropped.length === 0 && hit.at - openedAt < 5_000,
        { msAfterAccountOpened: hit.at - openedAt, kannelDropped: dropped.map((l) => l.replace(/^.*?WARNING: /, '')) },
      );
    }

    result.simulator = sim.summary() as unknown as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { notInstalled?: boolean };
    check('setup', e.notInstalled ? 'Kannel installed' : 'run to the end', false, e.message);
  } finally {
    // Shut down: Kannel first (smsbox, then bearerbox unbinds), then the gateway, then the rest.
    const grace = 5_000;
    for (const c of [...children].reverse()) {
      result.shutdown[c.name] = await c.stop(grace);
      say(`${c.name} stopped: ${JSON.stringify(result.shutdown[c.name])}`);
    }
    if (sim) await sim.stop(2_000).catch(() => {});
    if (sink) {
      sink.server.closeAllConnections();
      await new Promise<void>((r) => sink!.server.close(() => r()));
    }
    if (children.length > 0) {
      const unclean = Object.entries(result.shutdown).filter(([, r]) => r.killed || r.code !== 0);
      check('shutdown', 'clean shutdown (every child exited 0 on SIGTERM within 5 s)', unclean.length === 0, result.shutdown);
    }
    result.ok = result.checks.length > 0 && result.checks.every((c) => c.ok);
    if (!result.ok) {
      result.logTails = {};
      for (const [name, file] of Object.entries(logs)) if (existsSync(file)) result.logTails[name] = tail(file);
    }
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    result.elapsedMs = Date.now() - t0;
  }
  return result;
}

// ---- command line ---------------------------------------------------------------------------------

function parseArgs(argv: string[]): KannelInteropOptions {
  const o: KannelInteropOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--timeout') o.timeoutMs = Number(value());
    else if (a === '--keep') o.keep = true;
    else if (a === '--no-mo') o.mo = false;
    else if (a === '--bin-dir') o.binDir = value();
    else if (a === '--dlr-delay') o.dlrDelayMs = Number(value());
    else if (a === '--count') o.count = Number(value());
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node dist/scripts/interop/kannel.js [--timeout MS] [--keep] [--no-mo] [--count N] [--bin-dir DIR] [--dlr-delay MS]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main(): Promise<void> {
  let opts: KannelInteropOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kannel interop: ${(err as Error).message}\n`);
    process.exit(64);
  }
  if (!findKannel(opts.binDir)) {
    process.stderr.write('kannel interop: bearerbox/smsbox not found: install the Debian package `kannel` (apt-get install -y kannel)\n');
    process.stdout.write(`${JSON.stringify({ ok: false, error: 'Kannel is not installed' })}\n`);
    process.exit(2);
  }
  const ac = new AbortController();
  const onSignal = (sig: string) => {
    process.stderr.write(`kannel interop: ${sig}, shutting down\n`);
    ac.abort();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const result = await runKannelInterop({ ...opts, signal: ac.signal });
  if (!result.ok && result.logTails) {
    for (const [name, text] of Object.entries(result.logTails)) process.stderr.write(`\n----- ${name} (tail) -----\n${text}\n`);
  }
  const { logTails: _omit, ...summary } = result;
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(result.ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
