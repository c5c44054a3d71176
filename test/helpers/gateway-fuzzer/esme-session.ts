// One fuzzing ESME connection: binds as the account (mostly a transceiver), sends units (units.ts)
// keeping up to `window` requests outstanding, matches every response to its request (ledger.ts),
// answers what the gateway sends (deliver-sm.ts), and ends by its budget, an unbind, or a unit that
// breaks the framing; how it ends is checked (a bad command_length gets generic_nack, then a close;
// out of step or after an unbind, the gateway closes too; in step, it never closes on its own).
// Each connection's units come from its own PRNG, seeded from (seed, connection number).
import net from 'node:net';
import { seededRandom } from '../../../src/sim/util.js';
import { decode, encode } from '../../../src/smpp/codec.js';
import { COMMANDS, ESME_RINVCMDLEN, statusName } from '../../../src/smpp/defs.js';
import { Framer } from '../../../src/smpp/framer.js';
import type { Pdu } from '../../../src/smpp/pdu.js';
import { connectionSeed, frameEffect } from '../fuzzer.js';
import type { DeliverSmCheck } from './deliver-sm.js';
import { hostileBind } from './hostile-bind.js';
import type { Ledger } from './ledger.js';
import { MAX_PDU, MB, accountBind, bump, int, sleep, waitSocket, withTimeout, yieldTurn } from './shared.js';
import type { GatewayFuzzSummary, RecordAnomaly, Skippable } from './summary.js';
import { expectsResponse, isUnbind, nextUnit, trackOf, type Track } from './units.js';

/** What a connection shares with the run. */
export interface FuzzRun {
  readonly seed: number;
  /** The gateway's SMPP port. */
  readonly port: number;
  /** Requests outstanding per connection. */
  readonly window: number;
  /** A request unanswered (or a write not drained) this long is an anomaly. */
  readonly stallMs: number;
  readonly skip: ReadonlySet<Skippable>;
  readonly s: GatewayFuzzSummary;
  readonly ledger: Ledger;
  readonly deliveries: DeliverSmCheck;
  readonly anomaly: RecordAnomaly;
  /** True once no unit is to be sent any more (count reached, time up, gateway gone). */
  finished(): boolean;
  /** Takes one unit of the count, before it is built. */
  reserve(): void;
  /** A connect failed (ten in a row stop the run), or succeeded. */
  connectFailed(): void;
  connected(): void;
  /** After each unit written: side traffic, the warm-up RSS sample, progress. */
  unitSent(): void;
}

/** A request sent, until its response comes. */
interface Pend {
  sentAt: number;
  unit: Buffer;
  track: Track | undefined;
}

/** Units kept per connection for anomalies. */
const RECENT_UNITS = 8;

export async function runConnection(run: FuzzRun, n: number): Promise<void> {
  const { s, ledger, anomaly, window, stallMs } = run;
  const seed = connectionSeed(run.seed, n);
  const rand = seededRandom(seed);
  // Answers to the gateway's requests depend on its timing: their own stream, so the units do not.
  const answerRand = seededRandom(seed ^ 0xa5a5a5a5);
  const recentUnits: Buffer[] = [];
  const socket = net.connect({ host: '127.0.0.1', port: run.port });
  socket.setNoDelay(true);
  let socketError: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => (socketError ??= err.code ?? err.message));
  if ((await waitSocket(socket, 'connect', 10_000)) !== 'event') {
    socket.destroy();
    run.connectFailed();
    return;
  }
  run.connected();
  s.connections++;
  const end = (why: string): void => bump(s.connectionEnds, why);

  // Reading: the bind response, the responses to our requests, and the gateway's own requests.
  const pending = new Map<number, Pend[]>();
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let bindWaiter: ((pdu: Pdu | undefined) => void) | undefined;
  let closed = false;
  let nackAfterFatal = false;
  let fatalSent = false;
  const framer = new Framer(16 * MB); // larger than the protocol allows: an oversize PDU is seen, not a framing error
  const onPdu = (buf: Buffer, start: number, length: number): void => {
    const raw = Buffer.from(buf.subarray(start, start + length));
    if (length > MAX_PDU)
      anomaly('oversize-pdu', n, `the gateway sent a PDU of ${length} bytes (command 0x${raw.readUInt32BE(4).toString(16)}), above the 64 KiB limit`, [
        raw.subarray(0, 64),
      ]);
    let pdu: Pdu;
    try {
      pdu = decode(raw, 0, 16 * MB);
    } catch (err) {
      anomaly('undecodable-pdu', n, `${(err as Error).message}`, [raw]);
      return;
    }
    if (bindWaiter !== undefined) {
      const w = bindWaiter;
      bindWaiter = undefined;
      w(pdu);
      return;
    }
    if (!COMMANDS.get(pdu.command)!.isResponse) {
      run.deliveries.answer(socket, pdu, answerRand, n, raw);
      return;
    }
    s.responses++;
    bump(s.responsesByStatus, statusName(pdu.command_status));
    bump(s.responsesByCommand, pdu.command);
    if (fatalSent && pdu.command === 'generic_nack' && pdu.command_status === ESME_RINVCMDLEN && pdu.sequence_number === 0) nackAfterFatal = true;
    outstanding--;
    const list = pending.get(pdu.sequence_number);
    const p = list?.shift();
    if (list !== undefined && list.length === 0) pending.delete(pdu.sequence_number);
    if (p !== undefined) onResponse(pdu, p);
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onResponse = (pdu: Pdu, p: Pend): void => {
    if (pdu.command_status !== 0 || p.track === undefined) return;
    const t = p.track;
    if (t.kind === 'submit' && (pdu.command === 'submit_sm_resp' || pdu.command === 'data_sm_resp')) {
      const id = ledger.rowOf(pdu.message_id);
      if (!/^[0-9a-f]{1,16}$/.test(pdu.message_id) || !Number.isSafeInteger(id)) {
        anomaly('bad-message-id', n, `submit answered OK with message_id ${JSON.stringify(pdu.message_id)}`, [p.unit]);
        return;
      }
      ledger.acknowledge(id, pdu.message_id, t.expect);
    } else if (t.kind === 'multi' && pdu.command === 'submit_multi_resp') {
      ledger.acknowledgeMulti(pdu.message_id, (t.dests ?? 0) - pdu.unsuccess_sme.length);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk, onPdu);
    } catch (err) {
      anomaly('gateway-broke-framing', n, (err as Error).message);
      socket.destroy();
    }
  });
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      bindWaiter?.(undefined);
      const w = wake;
      wake = undefined;
      w?.();
      resolve();
    }),
  );
  const waitResponse = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve(false);
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  const closedWithin = (ms: number): Promise<'closed' | 'timeout'> =>
    Promise.race([closedPromise.then(() => 'closed' as const), sleep(ms).then(() => 'timeout' as const)]);
  const oldestPending = (k: number): Buffer[] =>
    [...pending.values()]
      .flat()
      .sort((a, b) => a.sentAt - b.sentAt)
      .slice(0, k)
      .map((p) => p.unit);

  try {
    // The bind: mostly a transceiver; transmitters get no deliver_sm, receivers may not submit.
    const command = rand() < 0.85 ? 'bind_transceiver' : rand() < 0.5 ? 'bind_transmitter' : 'bind_receiver';
    const got = new Promise<Pdu | undefined>((resolve) => (bindWaiter = resolve));
    socket.write(encode(accountBind(command)));
    const resp = await withTimeout(got, 10_000);
    if (resp === undefined || resp === 'timeout' || resp.command_status !== 0) {
      anomaly(
        'bind-failed',
        n,
        resp === 'timeout' ? 'no bind response' : resp === undefined ? 'closed before the bind response' : `${resp.command} ${statusName(resp.command_status)}`,
      );
      end('bind failed');
      return;
    }

    const budget = rand() < 0.1 ? 1 + int(rand, 50) : Math.floor(Math.exp(rand() * Math.log(20_000)));
    let sentHere = 0;
    let seq = 2;
    let ending: string | undefined;
    let sinceYield = 0;
    while (!closed && ending === undefined && sentHere < budget && !run.finished()) {
      if (outstanding >= window) {
        const ok = await waitResponse(stallMs);
        if (!ok && !closed && outstanding >= window) {
          anomaly('unanswered', n, `${outstanding} requests outstanding, no response for ${stallMs} ms`, oldestPending(3));
          ending = 'stall';
        }
        continue;
      }
      if (rand() < 1 / 3000) await hostileBind(run, rand, n);
      run.reserve();
      seq = seq >= 0x7ffffff0 ? 2 : seq + 1;
      const u = nextUnit(rand, seq, ledger.recent, 0.1, run.skip);
      bump(s.sentByKind, u.kind);
      if (recentUnits.length === RECENT_UNITS) recentUnits.shift();
      recentUnits.push(u.bytes);
      const effect = frameEffect(u.bytes);
      if (effect === 'fatal') fatalSent = true;
      if (effect !== 'in-step') ending = effect === 'fatal' ? 'framing (bad command_length)' : 'framing (out of step)';
      else if (isUnbind(u.bytes)) ending = 'unbind';
      else if (expectsResponse(u.bytes)) {
        const useq = u.bytes.readUInt32BE(12);
        const track = u.track ?? (u.kind.startsWith('mutated') || u.kind === 'malformed' || u.kind === 'other' ? trackOf(u.bytes) : undefined);
        const p: Pend = { sentAt: performance.now(), unit: u.bytes, track };
        if (track?.kind === 'replace') ledger.aimedAt(track.target ?? '');
        const list = pending.get(useq);
        if (list) list.push(p);
        else pending.set(useq, [p]);
        outstanding++;
      }
      const ok = socket.write(u.bytes);
      s.sent++;
      s.bytes += u.bytes.length;
      sentHere++;
      run.unitSent();
      if (!ok) {
        const r = await waitSocket(socket, 'drain', stallMs);
        if (r === 'timeout') {
          anomaly('stall', n, `no drain within ${stallMs} ms`, recentUnits);
          ending = 'stall';
        }
      } else if (++sinceYield >= 16) {
        sinceYield = 0;
        await yieldTurn();
      }
    }

    if (ending === 'framing (bad command_length)') {
      const r = await closedWithin(10_000);
      if (r === 'timeout') anomaly('unexpected-close', n, 'still open 10 s after a command_length outside 16..65536', recentUnits.slice(-2));
      else if (!nackAfterFatal)
        anomaly(
          'no-nack-before-close',
          n,
          `closed after a bad command_length without generic_nack ESME_RINVCMDLEN #0 (socket error ${socketError ?? 'none'})`,
          recentUnits.slice(-2),
        );
      end(ending);
    } else if (ending === 'framing (out of step)') {
      // The gateway now waits for the rest of a PDU that never comes, or reads garbage as a
      // header: we end our side; it must close too.
      await sleep(50);
      socket.end();
      const r = await closedWithin(10_000);
      if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our FIN', recentUnits.slice(-2));
      end(ending);
    } else if (ending === 'unbind') {
      const r = await closedWithin(10_000);
      if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our unbind', recentUnits.slice(-1));
      end(ending);
    } else if (ending === 'stall') {
      end(ending);
    } else if (closed) {
      anomaly(
        'unexpected-close',
        n,
        `the gateway closed a connection in step (socket error ${socketError ?? 'none'}, ${outstanding} outstanding)`,
        recentUnits,
      );
      end('closed by the gateway');
    } else {
      // Budget spent (or the run is over): every request must have been answered, then unbind.
      const until = performance.now() + stallMs;
      while (outstanding > 0 && !closed && performance.now() < until) await waitResponse(until - performance.now());
      if (outstanding > 0 && !closed) anomaly('unanswered', n, `${outstanding} requests unanswered ${stallMs} ms after the last unit`, oldestPending(3));
      if (!closed) {
        if (rand() < 0.7) socket.write(encode({ command: 'unbind', sequence_number: 1 }));
        else socket.end();
        const r = await closedWithin(10_000);
        if (r === 'timeout') anomaly('no-close', n, 'the gateway kept the connection 10 s after our unbind or FIN', []);
      }
      end('done');
    }
  } finally {
    if (outstanding > 0) s.responsesLost += outstanding;
    if (!closed) socket.destroy();
    await closedPromise;
  }
}
