// Scale check `priority`: a 2FA code behind another account's bulk on a shared, throttled carrier
// link. A carrier (an SMPP server in this process, answering every submit_sm at once, recording
// when each arrives) behind a connector paced at `tps`; the gateway in its own process. Account
// `bulk` queues `bulk` normal messages (they wait: the connector drains them at `tps`); then
// account `otp` (max_priority 1) sends `priority` messages, one every `gapMs`, with priority_flag
// 1 (or 0 with `lane: 'normal'`: round-robin across accounts only). Measured: submit (just before
// the otp ESME writes its submit_sm) → carrier (when its submit_sm reaches the carrier), p50/p99,
// on this process's clock; and the bulk messages the carrier got meanwhile (the normal lane's share).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SmppClient } from '../../src/smpp/client.js';
import type { PduOf } from '../../src/smpp/pdu.js';
import { SmppServer } from '../../src/smpp/server.js';
import type { Session } from '../../src/smpp/session.js';
import { fmtInt, spread, table } from './common.js';
import { clkTck, operator, sleep, startLongLived, waitConnectorUp, type LongLived } from './procs.js';

export interface PriorityOptions {
  bulk: number;
  priority: number;
  gapMs: number;
  tps: number;
  lane: 'priority' | 'normal';
  limitMs: number;
  log: (line: string) => void;
}

export interface PriorityResult {
  config: Omit<PriorityOptions, 'log'>;
  /** submit → carrier of the otp messages, ms. */
  latencyMs: ReturnType<typeof spread>;
  /** Bulk messages the carrier got while the otp messages were sent, and over how long. */
  bulkDuring: number;
  windowS: number;
  /** Bulk messages still queued in the gateway at the end. */
  bulkLeft: number;
}

async function bind(port: number, systemId: string, limitMs: number): Promise<{ client: SmppClient; session: Session }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${systemId}: no bind within ${limitMs} ms`)), limitMs);
    const client: SmppClient = new SmppClient({
      host: '127.0.0.1',
      port,
      bind: { command: 'bind_transceiver', system_id: systemId, password: 'pw' },
      session: { window: 100 },
      handlers: { request: () => ({}) }, // receipts, if any: answered
      onBound: (session) => {
        clearTimeout(timer);
        resolve({ client, session });
      },
    });
    client.start();
  });
}

export async function runPriorityBench(o: PriorityOptions): Promise<PriorityResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'smppgw-bench-priority-'));
  const db = path.join(dir, 'gw.db');
  const arrived = new Map<number, number>();
  let bulkArrived = 0;
  let carrierIds = 0;
  const carrier = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    handlers: {
      bind: () => ({ system_id: 'carrier' }),
      request: (pdu) => {
        if (pdu.command !== 'submit_sm') return {};
        const text = (pdu as PduOf<'submit_sm'>).short_message.toString('latin1');
        if (text.startsWith('otp ')) arrived.set(Number(text.slice(4)), performance.now());
        else bulkArrived++;
        return { message_id: (++carrierIds).toString(16) };
      },
    },
  });
  let gw: LongLived | undefined;
  const clients: SmppClient[] = [];
  try {
    const { port } = await carrier.listen();
    operator(db, o.limitMs, 'init');
    operator(db, o.limitMs, 'account', 'add', 'bulk', '--password', 'pw', '--window', '100');
    operator(db, o.limitMs, 'account', 'add', 'otp', '--password', 'pw', '--window', '100', '--max-priority', '1');
    operator(
      db,
      o.limitMs,
      'connector',
      'add',
      'carrier',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--system-id',
      'gw',
      '--password',
      'pw',
      '--tps',
      String(o.tps),
      '--window',
      '10',
    );
    operator(db, o.limitMs, 'route', 'add', 'mt', '--connector', 'carrier');
    gw = startLongLived(
      'gateway',
      ['start', '--db', db, '--port', '0', '--http-port', '0'],
      { SMPPGW_SMPP__HOST: '127.0.0.1', SMPPGW_HTTP__HOST: '127.0.0.1' },
      clkTck(),
      dir,
    );
    const ready = await gw.waitLine((l) => l.msg === 'smppgw ready', o.limitMs);
    await waitConnectorUp(ready.http as number, o.limitMs, 'carrier');
    const bulk = await bind(ready.smpp as number, 'bulk', o.limitMs);
    const otp = await bind(ready.smpp as number, 'otp', o.limitMs);
    clients.push(bulk.client, otp.client);
    o.log(`bench-scale priority: queueing ${fmtInt(o.bulk)} bulk messages`);
    const body = Buffer.from('bulk promotion', 'latin1');
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < o.bulk; i++) {
      sends.push(
        bulk.session.request({
          command: 'submit_sm',
          source_addr: 'SHOP',
          destination_addr: `4477009${String(i % 100_000).padStart(5, '0')}`,
          short_message: body,
        }),
      );
      if (sends.length >= 1_000) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    o.log(`bench-scale priority: bulk accepted; the carrier has ${fmtInt(bulkArrived)} of them; sending ${o.priority} otp messages, one every ${o.gapMs} ms`);
    const sentAt = new Map<number, number>();
    const bulkBefore = bulkArrived;
    const t0 = performance.now();
    for (let i = 0; i < o.priority; i++) {
      sentAt.set(i, performance.now());
      void otp.session.request({
        command: 'submit_sm',
        source_addr: 'BANK',
        destination_addr: '447700900999',
        priority_flag: o.lane === 'priority' ? 1 : 0,
        short_message: Buffer.from(`otp ${i}`, 'latin1'),
      });
      await sleep(o.gapMs);
    }
    const deadline = performance.now() + o.limitMs;
    while (arrived.size < o.priority && performance.now() < deadline) await sleep(20);
    const windowS = (performance.now() - t0) / 1000;
    if (arrived.size < o.priority) throw new Error(`only ${arrived.size} of ${o.priority} otp messages reached the carrier in time`);
    const latencies = [...sentAt].map(([i, at]) => arrived.get(i)! - at);
    return {
      config: { bulk: o.bulk, priority: o.priority, gapMs: o.gapMs, tps: o.tps, lane: o.lane, limitMs: o.limitMs },
      latencyMs: spread(latencies),
      bulkDuring: bulkArrived - bulkBefore,
      windowS: Math.round(windowS * 10) / 10,
      bulkLeft: o.bulk - bulkArrived,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close(2_000)));
    if (gw) await gw.stop(20_000).catch(() => gw!.kill());
    await carrier.close(2_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatPriority(r: PriorityResult): string {
  const c = r.config;
  const l = r.latencyMs;
  return [
    `priority lane: ${c.priority} otp messages (priority_flag ${c.lane === 'priority' ? 1 : 0}, one every ${c.gapMs} ms) while ${fmtInt(c.bulk)} bulk ones wait on a ${c.tps} msg/s connector`,
    table([
      ['submit→carrier ms', 'p50', 'p95', 'p99', 'max', 'n'],
      ['otp', String(l.p50), String(l.p95), String(l.p99), String(l.max), String(l.n)],
    ]),
    `bulk messages sent meanwhile: ${fmtInt(r.bulkDuring)} in ${r.windowS} s (${fmtInt(r.bulkDuring / r.windowS)}/s); still queued at the end: ${fmtInt(r.bulkLeft)}`,
  ].join('\n');
}
