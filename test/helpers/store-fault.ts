// For the store-fault tests (a database deleted, full or locked under a running gateway): an ESME
// that keeps submitting until told to stop, keeping every id it was acknowledged and counting every
// status it got; and small readers of /metrics, /healthz and /readyz and of a ledger file.
import Database from 'better-sqlite3';
import { SmppClient } from '../../src/smpp/client.js';
import { ESME_RMSGQFUL } from '../../src/smpp/defs.js';
import type { Pdu } from '../../src/smpp/pdu.js';
import { ESME } from './gateway-carrier.js';
import { idsOfDb, rowOf } from './message-ids.js';

/**
 * An ESME (transceiver, answering receipts OK) that keeps `window` submit_sm open until stop().
 * "Cannot store now" (ESME_RMSGQFUL) is retried after a few ms, as an ESME would.
 */
export class Submitter {
  /** Gateway message ids acknowledged ESME_ROK, in the order acknowledged. */
  readonly acked: string[] = [];
  /** Every response by command_status; failures without a response under `error`. */
  readonly statuses = new Map<number | 'error', number>();
  private stopped = false;
  private workers: Array<Promise<void>> = [];
  private n = 0;

  private constructor(private readonly client: SmppClient) {}

  static async start(port: number, window = 10): Promise<Submitter> {
    const client = new SmppClient({
      host: '127.0.0.1',
      port,
      bind: { command: 'bind_transceiver', system_id: ESME.systemId, password: ESME.password },
      session: { enquireLinkMs: 0, window: window * 2, responseTimeoutMs: 15_000 },
      handlers: { request: (_pdu: Pdu) => ({}) },
    });
    client.start();
    let timer: NodeJS.Timeout | undefined;
    const session = await Promise.race([
      client.whenBound(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('ESME not bound within 10 s')), 10_000))),
    ]).finally(() => clearTimeout(timer));
    const s = new Submitter(client);
    const worker = async (): Promise<void> => {
      // Bounded: a worker sends at most this many (the tests stop them long before).
      for (let k = 0; k < 1_000_000 && !s.stopped; k++) {
        const i = s.n++;
        try {
          const resp = await session.request({
            command: 'submit_sm',
            source_addr: 'SHOP',
            destination_addr: String(4917000000 + (i % 100_000)),
            registered_delivery: 1,
            short_message: Buffer.from(`store ${i}`),
          });
          s.count(resp.command_status);
          if (resp.command_status === 0) s.acked.push(resp.message_id);
          else if (resp.command_status === ESME_RMSGQFUL) await new Promise((r) => setTimeout(r, 5));
          else await new Promise((r) => setTimeout(r, 20));
        } catch {
          s.count('error');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    s.workers = Array.from({ length: window }, worker);
    return s;
  }

  status(status: number): number {
    return this.statuses.get(status) ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    await this.client.close(2_000);
  }

  private count(status: number | 'error'): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

/** GET on the gateway's HTTP port: status and body, or an error if no answer within `ms`. */
export async function httpGet(port: number, path: string, ms = 5_000): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(ms) });
  return { status: res.status, body: await res.text() };
}

/** The value of one sample of /metrics (`name{labels}` as printed), or undefined when absent. */
export async function metric(port: number, sample: string): Promise<number | undefined> {
  const { body } = await httpGet(port, '/metrics');
  const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** Ledger ids in a database file (read-only). */
export function ledgerIds(file: string): Set<number> {
  const d = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return new Set(d.prepare('SELECT id FROM messages').pluck().all() as number[]);
  } finally {
    d.close();
  }
}

/** Messages in the ledger not in a final state yet (queued or sent without a receipt). */
export function unfinished(file: string): number {
  const d = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return d.prepare('SELECT COUNT(*) FROM messages WHERE state < 2').pluck().get() as number;
  } finally {
    d.close();
  }
}

/** Gateway message ids (hex, the account's default format) that the ledger in `file` does not hold. */
export function missingFrom(file: string, acked: readonly string[]): string[] {
  const rows = ledgerIds(file);
  const ids = idsOfDb(file);
  return acked.filter((id) => !rows.has(rowOf(ids, id)));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
