// Scale benchmark (`--mode binds`), ESME side: one process that opens N bind_transceiver sessions to
// the gateway, at most `concurrency` binds under way at a time (default: all N at once), and times
// each one from its connect() to its bind_transceiver_resp. Then, on the orchestrator's word, it
// sends `perBind` submit_sm (registered_delivery 1) on every bound session and waits for their
// receipts (which the gateway may deliver on any bound session of the account), and finally unbinds
// them all. Started by scale-binds.ts with fork(); talks to it over the IPC channel only between
// those steps.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { foldId } from '../../src/dlr/ids.js';
import { isReceipt, parseReceipt } from '../../src/dlr/receipt.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { Session } from '../../src/smpp/session.js';
import { MT, SHORT_MESSAGE } from './common.js';

export interface BindsStart {
  type: 'bind';
  port: number;
  binds: number;
  /** Binds under way at once. */
  concurrency: number;
  /** CA file: connect with TLS. */
  ca?: string;
  /** bind_transceiver_resp (and submit_sm_resp) timeout. */
  responseTimeoutMs: number;
  systemId: string;
  password: string;
}

export interface BindsBound {
  type: 'bound';
  bound: number;
  failed: Record<string, number>;
  /** Per bind, connect() → bind_transceiver_resp OK, in ms (bound ones only). */
  bindMs: number[];
  /** Per bind, connect() → TCP connected (TLS: handshake done), in ms. */
  connectMs: number[];
  /** First connect() → last bind_transceiver_resp. */
  totalMs: number;
  cpuUs: number;
  rssMiB: number;
}

export interface BindsSent {
  type: 'sent';
  sent: number;
  acked: number;
  errors: Record<string, number>;
  receipts: number;
  matched: number;
  /** Sessions that received at least one receipt. */
  sessionsWithReceipts: number;
  /** Sessions lost (closed by the peer or the network) since they bound. */
  lost: number;
  respMs: number[];
  dlrMs: number[];
  elapsedMs: number;
  rssMiB: number;
}

export interface BindsClosed {
  type: 'closed';
  elapsedMs: number;
  lost: number;
}

export type BindsToChild = BindsStart | { type: 'send'; perBind: number; timeoutMs: number } | { type: 'unbind' } | { type: 'exit' };
export type BindsFromChild = BindsBound | BindsSent | BindsClosed | { type: 'error'; message: string };

interface Slot {
  session: Session;
  bound: boolean;
  receipts: number;
}

const slots: Slot[] = [];
let lost = 0;
/** unbindAll() under way: sessions closing now are not lost. */
let closing = false;
/** Folded gateway message id → submit time; receipts seen. */
const sentAt = new Map<string, number>();
const earlyReceipts = new Map<string, number>();
let receipts = 0;
let matched = 0;
const dlrMs: number[] = [];
let onAllReceipts: (() => void) | undefined;
let expectedReceipts = Infinity;

function send(msg: BindsFromChild): void {
  process.send!(msg);
}

function onIncoming(pdu: Pdu, slot: Slot): void {
  if ((pdu.command !== 'deliver_sm' && pdu.command !== 'data_sm') || !isReceipt(pdu.esm_class)) return;
  receipts++;
  slot.receipts++;
  const r = parseReceipt(pdu);
  if (!r) return;
  const id = foldId(r.id);
  const t = sentAt.get(id);
  const now = performance.now();
  if (t === undefined) {
    earlyReceipts.set(id, now);
    return;
  }
  sentAt.delete(id);
  matched++;
  dlrMs.push(now - t);
  if (matched >= expectedReceipts) onAllReceipts?.();
}

function openOne(o: BindsStart, ca: Buffer | undefined): Promise<{ ok: true; bindMs: number; connectMs: number } | { ok: false; reason: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = ca ? tls.connect({ host: '127.0.0.1', port: o.port, ca, minVersion: 'TLSv1.2' }) : net.connect({ host: '127.0.0.1', port: o.port });
    let connectMs = NaN;
    socket.once(ca ? 'secureConnect' : 'connect', () => (connectMs = performance.now() - t0));
    const slot: Slot = { session: undefined as unknown as Session, bound: false, receipts: 0 };
    let settled = false;
    const done = (r: { ok: true; bindMs: number; connectMs: number } | { ok: false; reason: string }) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const session = new Session(socket, {
      role: 'esme',
      window: 10,
      responseTimeoutMs: o.responseTimeoutMs,
      handlers: {
        request: (pdu) => onIncoming(pdu, slot),
        close: (_s, reason) => {
          if (slot.bound && !closing) lost++;
          slot.bound = false;
          done({ ok: false, reason: `closed: ${reason.slice(0, 60)}` });
        },
      },
    });
    slot.session = session;
    socket.once('error', (err) => done({ ok: false, reason: `socket: ${err.message.slice(0, 60)}` }));
    socket.once('connect', () => {
      session.bind('bind_transceiver', { system_id: o.systemId, password: o.password }).then(
        () => {
          slot.bound = true;
          slots.push(slot);
          done({ ok: true, bindMs: performance.now() - t0, connectMs });
        },
        (err: Error) => {
          session.destroy('bind failed');
          done({ ok: false, reason: `bind: ${err.message.slice(0, 60)}` });
        },
      );
    });
  });
}

async function bindAll(o: BindsStart): Promise<void> {
  const ca = o.ca ? readFileSync(o.ca) : undefined;
  const cpu0 = process.cpuUsage();
  const bindMs: number[] = [];
  const connectMs: number[] = [];
  const failed: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  let last = t0;
  const worker = async () => {
    while (next < o.binds) {
      next++;
      const r = await openOne(o, ca);
      if (r.ok) {
        bindMs.push(r.bindMs);
        connectMs.push(r.connectMs);
        last = performance.now();
      } else {
        failed[r.reason] = (failed[r.reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.binds) }, worker));
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'bound',
    bound: bindMs.length,
    failed,
    bindMs,
    connectMs,
    totalMs: last - t0,
    cpuUs: cpu.user + cpu.system,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  });
}

async function sendAll(perBind: number, timeoutMs: number): Promise<void> {
  const live = slots.filter((s) => s.bound);
  const errors: Record<string, number> = {};
  const respMs: number[] = [];
  let acked = 0;
  let sent = 0;
  const t0 = performance.now();
  const allReceipts = new Promise<void>((resolve) => (onAllReceipts = resolve));
  await Promise.all(
    live.map(async (slot) => {
      for (let k = 0; k < perBind; k++) {
        const ts = performance.now();
        sent++;
        try {
          const resp = await slot.session.request({
            command: 'submit_sm',
            source_addr: MT.source_addr,
            destination_addr: MT.destination_addr,
            registered_delivery: 1,
            data_coding: MT.data_coding,
            short_message: SHORT_MESSAGE,
          });
          respMs.push(performance.now() - ts);
          if (resp.command_status !== 0) {
            const key = `0x${resp.command_status.toString(16)}`;
            errors[key] = (errors[key] ?? 0) + 1;
            continue;
          }
          acked++;
          const id = foldId(resp.message_id);
          const early = earlyReceipts.get(id);
          if (early !== undefined) {
            earlyReceipts.delete(id);
            matched++;
            dlrMs.push(early - ts);
          } else {
            sentAt.set(id, ts);
          }
        } catch (err) {
          const key = (err as Error).name || 'error';
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    }),
  );
  expectedReceipts = acked;
  if (matched < acked) {
    await Promise.race([allReceipts, new Promise<void>((r) => setTimeout(r, timeoutMs))]);
  }
  onAllReceipts = undefined;
  send({
    type: 'sent',
    sent,
    acked,
    errors,
    receipts,
    matched,
    sessionsWithReceipts: slots.filter((s) => s.receipts > 0).length,
    lost,
    respMs,
    dlrMs,
    elapsedMs: performance.now() - t0,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  });
}

async function unbindAll(): Promise<void> {
  closing = true;
  const t0 = performance.now();
  await Promise.allSettled(slots.map((s) => s.session.close('benchmark done', 10_000)));
  send({ type: 'closed', elapsedMs: performance.now() - t0, lost });
}

if (process.send === undefined) {
  console.error('this program is started by the scale benchmark (scripts/bench-scale.ts --mode binds), not by hand');
  process.exit(2);
}
const fail = (err: unknown) => {
  try {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  } finally {
    setTimeout(() => process.exit(1), 500).unref();
  }
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('disconnect', () => process.exit(3));
process.on('message', (msg: BindsToChild) => {
  if (msg.type === 'bind') bindAll(msg).catch(fail);
  else if (msg.type === 'send') sendAll(msg.perBind, msg.timeoutMs).catch(fail);
  else if (msg.type === 'unbind') unbindAll().catch(fail);
  else if (msg.type === 'exit') process.exit(0);
});
