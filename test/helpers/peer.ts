// A raw SMPP peer for session tests: a plain net.Socket that writes PDUs built with our codec and
// reads back whole PDUs with our framer. It answers nothing by itself, so a test decides every
// byte the session under test sees. Every wait is bounded by a real-time guard that fails the
// test (it never stands in for a protocol timeout: those run on the ManualClock).
import net from 'node:net';
import { decode, encode } from '../../src/smpp/codec.js';
import { Framer } from '../../src/smpp/framer.js';
import type { Pdu, PduInput, Tlv } from '../../src/smpp/pdu.js';
import { Session, type SessionOptions } from '../../src/smpp/session.js';
import type { BindCommand } from '../../src/smpp/states.js';
import { ManualClock } from './clock.js';

/** How long a wait for a socket event may take before the test fails instead of hanging. */
export const GUARD_MS = 4_000;

/** Two ends of one TCP connection on 127.0.0.1. */
export async function socketPair(): Promise<{ ours: net.Socket; theirs: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const theirs = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    theirs.once('connect', resolve);
    theirs.once('error', reject);
  });
  const ours = await accepted;
  server.close();
  return { ours, theirs };
}

/** Rejects after GUARD_MS unless `p` settles first. */
export function guard<T>(p: Promise<T>, what: string, ms = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`guard: ${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, fail]).finally(() => clearTimeout(timer));
}

/** Lets pending I/O callbacks, immediates (the writer's flush) and microtasks run once. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type AnswerInit = { command_status?: number; tlvs?: Tlv[] } & Record<string, unknown>;

export class Peer {
  /** Every PDU received, in order (also those already taken with next()). */
  readonly received: Pdu[] = [];
  /** `data` events seen (TCP reads). */
  chunks = 0;
  readonly closed: Promise<void>;
  isClosed = false;
  /** When set, sees each PDU first; returning true consumes it (it is not queued for next()). */
  tap: ((pdu: Pdu) => boolean) | undefined;
  /** Keep every PDU in `received` (off for floods). */
  keep = true;
  private readonly queue: Pdu[] = [];
  private waiter: (() => void) | undefined;
  private readonly framer = new Framer();
  private syncSeq = 0x7fff0000;

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      this.chunks++;
      this.framer.push(chunk, (buf, start, length) => {
        const pdu = decode(Buffer.from(buf.subarray(start, start + length)));
        if (this.keep) this.received.push(pdu);
        if (this.tap?.(pdu)) return;
        this.queue.push(pdu);
        this.wake();
      });
    });
  }

  /** Writes the PDUs in one socket write. */
  send(...pdus: PduInput[]): void {
    this.socket.write(Buffer.concat(pdus.map((p) => encode(p))));
  }

  /** Answers a request with its response (same sequence number). */
  answer(req: Pdu, init: AnswerInit = {}): void {
    this.send({ ...init, command: `${req.command}_resp`, sequence_number: req.sequence_number } as PduInput);
  }

  /** The next PDU received (in order). */
  async next(what = 'next PDU'): Promise<Pdu> {
    const deadline = Date.now() + GUARD_MS;
    for (;;) {
      const pdu = this.queue.shift();
      if (pdu !== undefined) return pdu;
      if (this.isClosed) throw new Error(`peer: connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`peer: ${what} did not arrive within ${GUARD_MS} ms`);
      await guard(new Promise<void>((resolve) => (this.waiter = resolve)), what, left);
    }
  }

  /** Takes what is queued now, without waiting. */
  drain(): Pdu[] {
    return this.queue.splice(0);
  }

  /**
   * A barrier: sends enquire_link and returns every PDU that arrived before its answer. The
   * session writes in order, so whatever it had written before it read our enquire_link is in it.
   */
  async sync(): Promise<Pdu[]> {
    const seq = ++this.syncSeq;
    this.send({ command: 'enquire_link', sequence_number: seq });
    const before: Pdu[] = [];
    for (let i = 0; i < 100_000; i++) {
      const pdu = await this.next('enquire_link_resp of a sync');
      if (pdu.command === 'enquire_link_resp' && pdu.sequence_number === seq) return before;
      before.push(pdu);
    }
    throw new Error('peer: sync found no end');
  }

  /** Binds as an ESME and resolves with the bind response. */
  async bind(command: BindCommand = 'bind_transceiver', body: Record<string, unknown> = {}, seq = 1): Promise<Pdu> {
    this.send({ system_id: 'esme', password: 'secret', ...body, command, sequence_number: seq } as PduInput);
    return this.next(`${command}_resp`);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/** A Peer connected to `port` on 127.0.0.1. */
export async function connectPeer(port: number): Promise<Peer> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await guard(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    `connect to ${port}`,
  );
  return new Peer(socket);
}

/** A Session on one end of a fresh connection and a Peer on the other; the clock is manual. */
export async function sessionWithPeer(
  options: Partial<SessionOptions> & Pick<SessionOptions, 'role'>,
): Promise<{ session: Session; peer: Peer; clock: ManualClock; ours: net.Socket }> {
  const { ours, theirs } = await socketPair();
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const session = new Session(ours, { enquireLinkMs: 0, bindTimeoutMs: 0, ...options, clock });
  return { session, peer: new Peer(theirs), clock, ours };
}

/** ESME side: binds `session` with the peer acting as the SMSC. */
export async function bindEsme(session: Session, peer: Peer, command: BindCommand = 'bind_transceiver'): Promise<void> {
  const bound = session.bind(command, { system_id: 'esme', password: 'secret' });
  const req = await peer.next(command);
  peer.answer(req, { system_id: 'smsc' });
  await guard(bound, 'bind');
}

/** Closes both ends without ceremony (test cleanup). */
export function dispose(session: Session, peer: Peer): void {
  session.destroy('test over');
  peer.socket.destroy();
}

/** A small submit_sm body; `tag` goes in short_message to tell requests apart. */
export function submit(tag: string, extra: Partial<PduInput<'submit_sm'>> = {}): Omit<PduInput<'submit_sm'>, 'sequence_number'> {
  return { command: 'submit_sm', source_addr: '12345', destination_addr: '4915112345678', short_message: Buffer.from(tag), ...extra };
}

/** The tag submit() put in a PDU's short_message. */
export function tagOf(pdu: Pdu): string {
  return 'short_message' in pdu ? pdu.short_message.toString('latin1') : '';
}
