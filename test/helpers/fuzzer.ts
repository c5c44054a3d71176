// The protocol fuzzer shared by test/e2e/fuzz.test.ts (bounded) and scripts/fuzz.ts (long runs).
//
// Sends `count` units (a unit is one PDU-sized piece of bytes: a valid random PDU, a mutated one,
// or garbage) over many TCP connections to an SMPP server, some bound first with a valid bind, some
// not, and reads every response back (counted by command and status, then dropped). Writes wait for
// 'drain' (the server reads only as fast as we read its answers), and a connection the server
// closes is replaced by a new one.
//
// Each connection's bytes come from its own PRNG, seeded from (seed, connection number), so the
// stream that preceded a failure can be generated again. Besides counting, the engine tracks
// whether the server's framing is still in step with ours (every unit so far carried its true
// length), and from that checks two invariants:
//   - a unit whose command_length is outside 16..64 KiB, sent in step, is answered with
//     generic_nack ESME_RINVCMDLEN (sequence 0) and the connection is closed;
//   - a connection in step that sent no such unit and no unbind is never closed by the server;
//   - nothing stalls: every write drains, every bind is answered.
// A broken invariant is an Anomaly (with the connection's number, seed and last units), not an
// exception: the caller decides what fails.
// Every response must decode with our codec (the server never sends malformed PDUs).
import net from 'node:net';
import { decode, encode } from '../../src/smpp/codec.js';
import { COMMANDS, ESME_RINVCMDLEN, statusName } from '../../src/smpp/defs.js';
import { Framer } from '../../src/smpp/framer.js';
import type { CommandName, Pdu, PduInput } from '../../src/smpp/pdu.js';
import { randomPdu, seededRandom } from './random-pdu.js';

export interface FuzzOptions {
  port: number;
  host?: string;
  /** Units to send. */
  count: number;
  seed: number;
  /** Connections open at once (default 8). */
  concurrency?: number;
  /** Stop (reporting stoppedEarly) after this long (default: no limit). */
  timeLimitMs?: number;
  /** Share of connections that bind first (default 0.5). */
  bindRatio?: number;
  /** Credentials of the valid bind. */
  systemId?: string;
  password?: string;
  /** Longest wait for a connect, a bind response, a drain or a close (default 10 s). */
  waitMs?: number;
  /** Asked between batches: false stops the run (the target process died). */
  alive?: () => boolean;
  /**
   * Replay: run just these connections (numbers from an Anomaly), one after another, each with the
   * bytes it had in the original run of the same seed (up to `count` units in all).
   */
  replay?: number[];
  /** Called about every `progressEvery` units (default 100,000). */
  onProgress?: (s: FuzzSummary) => void;
  progressEvery?: number;
}

export interface Anomaly {
  kind: 'unexpected-close' | 'no-nack-before-close' | 'undecodable-response' | 'server-broke-framing' | 'stall' | 'bind-failed';
  connection: number;
  connectionSeed: number;
  detail: string;
  /** The last units sent on that connection, hex, oldest first. */
  lastUnits: string[];
}

export interface FuzzSummary {
  seed: number;
  /** Units written to an open socket. */
  sent: number;
  bytes: number;
  /** Units by kind (valid, mutated, length, garbage, nested, throw). */
  sentByKind: Record<string, number>;
  connections: number;
  boundConnections: number;
  /** Connections the server closed (rather than us). */
  closedByServer: number;
  /** Of those, after a unit with command_length outside 16..max sent in step. */
  framingCloses: number;
  /** Of those, on a bound connection after an unbind was sent in step. */
  unbindCloses: number;
  responses: number;
  responsesByStatus: Record<string, number>;
  responsesByCommand: Record<string, number>;
  connectErrors: number;
  anomalies: Anomaly[];
  /** Anomalies beyond the first 20 are counted, not kept. */
  anomalyCount: number;
  anomaliesByKind: Partial<Record<Anomaly['kind'], number>>;
  elapsedMs: number;
  stoppedEarly: string | undefined;
}

const MAX_PDU = 64 * 1024;
const MAX_ANOMALIES = 20;
const RECENT_UNITS = 12;

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: () => number, list: readonly T[]): T => list[int(rand, list.length)]!;

/** Requests an ESME sends to an SMSC: most traffic is these, so it reaches the handlers. */
const ESME_REQUESTS: readonly CommandName[] = [
  'submit_sm',
  'submit_sm',
  'submit_sm',
  'submit_sm',
  'data_sm',
  'data_sm',
  'query_sm',
  'cancel_sm',
  'replace_sm',
  'submit_multi',
  'enquire_link',
  'broadcast_sm',
  'query_broadcast_sm',
  'cancel_broadcast_sm',
];
const ALL_COMMANDS = [...COMMANDS.keys()] as CommandName[];
const KNOWN_IDS = [...COMMANDS.values()].map((c) => c.id);
const UNBIND_ID = COMMANDS.get('unbind')!.id;
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x41];
const BAD_LENGTHS = [0, 1, 4, 15, MAX_PDU + 1, 0x7fffffff, 0x80000000, 0xffffffff];
const INTERESTING_TAGS = [0x0000, 0x0005, 0x0204, 0x0424, 0x020c, 0x001e, 0x0501, 0x1400, 0xffff];

// ---- units ------------------------------------------------------------------------------------

export type Unit = { bytes: Buffer; kind: string };

function validPdu(rand: () => number): PduInput {
  const r = rand();
  let cmd: CommandName | undefined;
  if (r < 0.65) cmd = pick(rand, ESME_REQUESTS);
  else if (r < 0.97) cmd = pick(rand, ALL_COMMANDS);
  // else: randomPdu picks
  // unbind ends a bound session: keep it rare (about 1 in 400 units).
  if (cmd === 'unbind' && rand() < 0.8) cmd = 'enquire_link';
  const pdu = randomPdu(rand, cmd);
  // randomPdu draws any sequence number; responses to them are matched by nobody, as intended.
  return pdu;
}

function encodeValid(rand: () => number): Buffer {
  return encode(validPdu(rand));
}

function randomBuf(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

/** 1..4 mutations of a valid PDU; the length field is left alone (fixed or broken by the caller). */
export function mutate(rand: () => number, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + int(rand, 4);
  for (let r = 0; r < rounds; r++) {
    // Mostly the body; the header (after the length) now and then.
    const bodyPos = (): number => (b.length > 16 && rand() < 0.85 ? 16 + int(rand, b.length - 16) : 4 + int(rand, Math.max(1, Math.min(12, b.length - 4))));
    switch (int(rand, 11)) {
      case 0: {
        const p = bodyPos();
        if (p < b.length) b[p] = b[p]! ^ (1 << int(rand, 8));
        break;
      }
      case 1: {
        const p = bodyPos();
        if (p < b.length) b[p] = rand() < 0.7 ? pick(rand, INTERESTING_BYTES) : int(rand, 256);
        break;
      }
      case 2: {
        const p = Math.min(bodyPos(), b.length);
        b = Buffer.concat([b.subarray(0, p), randomBuf(rand, 1 + int(rand, 8)), b.subarray(p)]);
        break;
      }
      case 3: {
        const p = bodyPos();
        b = Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + int(rand, 8)))]);
        break;
      }
      case 4:
        if (b.length > 16) b = b.subarray(0, 16 + int(rand, b.length - 16));
        break;
      case 5:
        b = Buffer.concat([b, randomBuf(rand, 1 + int(rand, 16))]);
        break;
      case 6: {
        const q = rand();
        const id = q < 0.5 ? pick(rand, KNOWN_IDS) : q < 0.75 ? (pick(rand, KNOWN_IDS) ^ 0x80000000) >>> 0 : int(rand, 0x100000000);
        if (b.length >= 8) b.writeUInt32BE(id, 4);
        break;
      }
      case 7:
        if (b.length >= 16)
          b.writeUInt32BE(rand() < 0.5 ? int(rand, 0x100000000) : pick(rand, [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]), rand() < 0.5 ? 8 : 12);
        break;
      case 8: {
        // Take away a terminator, or add one.
        if (b.length <= 16) break;
        if (rand() < 0.5) {
          const from = 16 + int(rand, b.length - 16);
          const z = b.indexOf(0, from);
          if (z >= 0) b[z] = 0x41;
        } else {
          b[16 + int(rand, b.length - 16)] = 0;
        }
        break;
      }
      case 9: {
        // A TLV header whose length may run past the end, with some of the value.
        const len = rand() < 0.5 ? int(rand, 8) : int(rand, 0x10000);
        const h = Buffer.alloc(4);
        h.writeUInt16BE(rand() < 0.7 ? pick(rand, INTERESTING_TAGS) : int(rand, 0x10000), 0);
        h.writeUInt16BE(len, 2);
        b = Buffer.concat([b, h, randomBuf(rand, Math.min(len, int(rand, 12)))]);
        break;
      }
      case 10: {
        // Repeat a slice (runs of the same field).
        if (b.length <= 16) break;
        const p = 16 + int(rand, b.length - 16);
        const e = Math.min(b.length, p + 1 + int(rand, 32));
        b = Buffer.concat([b.subarray(0, e), b.subarray(p, e), b.subarray(e)]);
        break;
      }
    }
  }
  return b;
}

/** Sets command_length to the true length (padding to a header first), if that fits the framer. */
export function restamp(b: Buffer): Buffer {
  if (b.length < 16) b = Buffer.concat([b, Buffer.alloc(16 - b.length)]);
  if (b.length > MAX_PDU) b = b.subarray(0, MAX_PDU);
  b.writeUInt32BE(b.length, 0);
  return b;
}

/**
 * One unit. `breakRate` is the chance that it may break framing (its command_length not its true
 * length, or garbage); otherwise its length field is true and the server stays in step.
 */
export function makeUnit(rand: () => number, breakRate: number): Unit {
  const breaks = rand() < breakRate;
  if (breaks) {
    const r = rand();
    if (r < 0.2) return { kind: 'garbage', bytes: randomBuf(rand, 1 + int(rand, 200)) };
    const b = rand() < 0.5 ? mutate(rand, encodeValid(rand)) : Buffer.from(encodeValid(rand));
    if (r < 0.4) return { kind: 'length', bytes: b.subarray(0, 1 + int(rand, b.length)) }; // cut, length not fixed
    if (b.length >= 4) {
      const q = rand();
      const len = q < 0.5 ? pick(rand, BAD_LENGTHS) : q < 0.8 ? Math.max(0, b.length + int(rand, 129) - 64) : int(rand, 0x100000000);
      b.writeUInt32BE(len >>> 0, 0);
    }
    return { kind: 'length', bytes: b };
  }
  const r = rand();
  if (r < 0.3) return { kind: 'valid', bytes: encodeValid(rand) };
  if (r < 0.93) return { kind: 'mutated', bytes: restamp(mutate(rand, encodeValid(rand))) };
  if (r < 0.98) {
    // PDUs inside a PDU: a header claiming the lot.
    const parts = [encodeValid(rand), encodeValid(rand)];
    if (rand() < 0.5) parts.push(encodeValid(rand));
    const whole = Buffer.concat(parts);
    if (rand() < 0.5) whole.writeUInt32BE(pick(rand, KNOWN_IDS), 4);
    return { kind: 'nested', bytes: restamp(whole) };
  }
  // A valid submit_sm whose handler throws (answered ESME_RSYSERR).
  const pdu = randomPdu(rand, 'submit_sm') as PduInput<'submit_sm'>;
  return { kind: 'throw', bytes: encode({ ...pdu, short_message: Buffer.from('THROW me', 'latin1') }) };
}

/** What a unit does to a server in step: keeps it in step, leaves it out of step, or is refused. */
export function frameEffect(b: Buffer): 'in-step' | 'out-of-step' | 'fatal' {
  if (b.length < 4) return 'out-of-step';
  const len = b.readUInt32BE(0);
  if (len < 16 || len > MAX_PDU) return 'fatal';
  return len === b.length ? 'in-step' : 'out-of-step';
}

// ---- the run ----------------------------------------------------------------------------------

/** A seed per connection, derived from the run's seed (so one connection can be replayed alone). */
export function connectionSeed(seed: number, n: number): number {
  return (seededRandom((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0)() * 0x100000000) >>> 0;
}

export function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Waits for `event` on the socket, its close, or `ms` to pass, whichever comes first. */
export function waitSocket(socket: net.Socket, event: string, ms: number): Promise<'event' | 'closed' | 'timeout'> {
  if (socket.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const done = (r: 'event' | 'closed' | 'timeout'): void => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off('close', onClose);
      resolve(r);
    };
    const onEvent = (): void => done('event');
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('timeout'), ms);
    socket.once(event, onEvent);
    socket.once('close', onClose);
  });
}

export const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const host = options.host ?? '127.0.0.1';
  const concurrency = options.concurrency ?? 8;
  const bindRatio = options.bindRatio ?? 0.5;
  const waitMs = options.waitMs ?? 10_000;
  const timeLimit = options.timeLimitMs ?? Infinity;
  const progressEvery = options.progressEvery ?? 100_000;
  const started = performance.now();
  const s: FuzzSummary = {
    seed: options.seed,
    sent: 0,
    bytes: 0,
    sentByKind: {},
    connections: 0,
    boundConnections: 0,
    closedByServer: 0,
    framingCloses: 0,
    unbindCloses: 0,
    responses: 0,
    responsesByStatus: {},
    responsesByCommand: {},
    connectErrors: 0,
    anomalies: [],
    anomalyCount: 0,
    anomaliesByKind: {},
    elapsedMs: 0,
    stoppedEarly: undefined,
  };
  let reserved = 0;
  let nextConnection = 0;
  let consecutiveConnectErrors = 0;
  let nextProgress = progressEvery;

  const stop = (reason: string): void => {
    s.stoppedEarly ??= reason;
  };
  const finished = (): boolean => {
    if (s.stoppedEarly !== undefined) return true;
    if (performance.now() - started > timeLimit) stop(`time limit of ${timeLimit} ms reached`);
    else if (options.alive && !options.alive()) stop('target process exited');
    return s.stoppedEarly !== undefined || reserved >= options.count;
  };

  async function connection(n: number): Promise<void> {
    const seed = connectionSeed(options.seed, n);
    const rand = seededRandom(seed);
    const recent: Buffer[] = [];
    const anomaly = (kind: Anomaly['kind'], detail: string): void => {
      s.anomalyCount++;
      s.anomaliesByKind[kind] = (s.anomaliesByKind[kind] ?? 0) + 1;
      if (s.anomalies.length < MAX_ANOMALIES)
        s.anomalies.push({ kind, connection: n, connectionSeed: seed, detail, lastUnits: recent.map((b) => b.toString('hex')) });
    };

    const socket = net.connect({ host, port: options.port });
    socket.setNoDelay(true);
    let socketError: string | undefined;
    let responsesHere = 0;
    // Resets after a framing error are expected; 'close' follows.
    socket.on('error', (err: NodeJS.ErrnoException) => (socketError ??= err.code ?? err.message));
    const connected = await waitSocket(socket, 'connect', waitMs);
    if (connected !== 'event') {
      socket.destroy();
      s.connectErrors++;
      if (++consecutiveConnectErrors >= 20) stop(`${consecutiveConnectErrors} connects in a row failed`);
      return;
    }
    consecutiveConnectErrors = 0;
    s.connections++;

    // Reading: every response decoded, counted and dropped; the bind waits for its answer here.
    let weClosed = false;
    let closed = false;
    let nackAfterFatal = false;
    let fatalSent = false;
    let bindWaiter: ((pdu: Pdu | undefined) => void) | undefined;
    const framer = new Framer(MAX_PDU);
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk, (buf, start, length) => {
          let pdu: Pdu;
          try {
            pdu = decode(buf, start, MAX_PDU);
          } catch (err) {
            anomaly('undecodable-response', `${(err as Error).message}: ${buf.toString('hex', start, start + Math.min(length, 256))}`);
            return;
          }
          s.responses++;
          responsesHere++;
          bump(s.responsesByStatus, statusName(pdu.command_status));
          bump(s.responsesByCommand, pdu.command);
          if (fatalSent && pdu.command === 'generic_nack' && pdu.command_status === ESME_RINVCMDLEN && pdu.sequence_number === 0) nackAfterFatal = true;
          if (bindWaiter !== undefined) {
            const w = bindWaiter;
            bindWaiter = undefined;
            w(pdu);
          }
        });
      } catch (err) {
        anomaly('server-broke-framing', (err as Error).message);
        weClosed = true;
        socket.destroy();
      }
    });
    const closedPromise = new Promise<void>((resolve) =>
      socket.once('close', () => {
        closed = true;
        bindWaiter?.(undefined);
        resolve();
      }),
    );

    let inStep = true;
    let unbindSent = false;
    const budget = rand() < 0.1 ? 1 + int(rand, 20) : Math.floor(Math.exp(rand() * Math.log(4000)));
    const level = rand();
    const breakRate = level < 0.6 ? 0.001 : level < 0.9 ? 0.01 : 0.1;
    const bindFirst = rand() < bindRatio;

    let bound = false;
    if (bindFirst) {
      const command = pick(rand, ['bind_transceiver', 'bind_transmitter', 'bind_transceiver', 'bind_receiver'] as const);
      const seq = 1 + int(rand, 0x7ffffffe);
      const got = new Promise<Pdu | undefined>((resolve) => (bindWaiter = resolve));
      socket.write(
        encode({ command, sequence_number: seq, system_id: options.systemId ?? 'test', password: options.password ?? 'secret', interface_version: 0x34 }),
      );
      let timer: NodeJS.Timeout | undefined;
      const resp = await Promise.race([got, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), waitMs)))]);
      clearTimeout(timer);
      if (resp !== undefined && resp !== 'timeout' && resp.command === `${command}_resp` && resp.command_status === 0 && resp.sequence_number === seq) {
        s.boundConnections++;
        bound = true;
      } else {
        anomaly(
          'bind-failed',
          resp === 'timeout'
            ? 'no bind response'
            : resp === undefined
              ? 'closed before the bind response'
              : `${resp.command} ${statusName(resp.command_status)} #${resp.sequence_number}`,
        );
      }
    }

    let sentHere = 0;
    while (!closed && sentHere < budget && !finished() && !fatalSent) {
      const want = Math.min(1 + int(rand, 64), budget - sentHere, options.count - reserved);
      if (want <= 0) break;
      reserved += want;
      const units: Buffer[] = [];
      for (let i = 0; i < want; i++) {
        const u = makeUnit(rand, breakRate);
        units.push(u.bytes);
        bump(s.sentByKind, u.kind);
        if (recent.length === RECENT_UNITS) recent.shift();
        recent.push(u.bytes);
        if (inStep) {
          const effect = frameEffect(u.bytes);
          if (effect === 'fatal') {
            fatalSent = true;
            break; // the server stops reading here: nothing after it would be read
          }
          if (effect === 'out-of-step') inStep = false;
          else if (u.bytes.readUInt32BE(4) === UNBIND_ID) unbindSent = true;
        }
      }
      reserved -= want - units.length;
      const batch = Buffer.concat(units);
      if (socket.destroyed || !socket.writable) {
        reserved -= units.length; // not sent: another connection sends as many
        break;
      }
      let ok: boolean;
      if (rand() < 0.005 && batch.length <= 4096) {
        // Dribble: the batch in small pieces, so that PDUs and length fields straddle reads.
        ok = true;
        for (let p = 0; p < batch.length && !socket.destroyed; ) {
          const q = Math.min(batch.length, p + 1 + int(rand, 7));
          ok = socket.write(batch.subarray(p, q));
          p = q;
          await yieldTurn();
        }
      } else {
        ok = socket.write(batch);
      }
      s.sent += units.length;
      s.bytes += batch.length;
      sentHere += units.length;
      if (s.sent >= nextProgress) {
        nextProgress += progressEvery;
        s.elapsedMs = Math.round(performance.now() - started);
        options.onProgress?.(s);
      }
      if (!ok) {
        const r = await waitSocket(socket, 'drain', waitMs);
        if (r === 'timeout') {
          anomaly('stall', `no drain within ${waitMs} ms`);
          weClosed = true;
          socket.destroy();
        }
      } else {
        await yieldTurn();
      }
    }

    if (fatalSent && !closed) {
      // The server must answer generic_nack and close.
      const r = await Promise.race([
        closedPromise.then(() => 'closed' as const),
        new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), waitMs).unref()),
      ]);
      if (r === 'timeout') anomaly('unexpected-close', `still open ${waitMs} ms after a command_length outside 16..${MAX_PDU}`);
    }
    if (!closed) {
      weClosed = true;
      socket.end();
      const r = await Promise.race([
        closedPromise.then(() => 'closed' as const),
        new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), waitMs).unref()),
      ]);
      if (r === 'timeout') socket.destroy();
      await closedPromise;
    }
    if (!weClosed) {
      s.closedByServer++;
      if (unbindSent && bound) {
        // A valid unbind may have ended the session before the server read what followed it.
        s.unbindCloses++;
      } else if (fatalSent) {
        s.framingCloses++;
        if (!nackAfterFatal)
          anomaly(
            'no-nack-before-close',
            `closed after a bad command_length without generic_nack ESME_RINVCMDLEN #0 (${sentHere} units sent, ${responsesHere} responses, socket error ${socketError ?? 'none'})`,
          );
      } else if (inStep && !(unbindSent && bound)) {
        anomaly(
          'unexpected-close',
          `the server closed a connection that was in step, sent no bad length and no unbind (${sentHere} units sent, ${responsesHere} responses, socket error ${socketError ?? 'none'})`,
        );
      }
    }
  }

  async function worker(): Promise<void> {
    while (!finished()) await connection(nextConnection++);
  }

  if (options.replay !== undefined) {
    for (const n of options.replay) if (!finished()) await connection(n);
  } else {
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
  }
  s.elapsedMs = Math.round(performance.now() - started);
  return s;
}
