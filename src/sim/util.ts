// Small pieces the SMSC simulator and the load generator share: address ranges, weighted receipt
// states, status arguments, seeded randomness, percentiles and text encoding.
import { InvalidInputError } from '../errors.js';
import { MessageState } from '../smpp/message-state.js';
import { statOf } from '../dlr/receipt.js';
import { statusByName, MESSAGE_PAYLOAD_TAG } from '../smpp/defs.js';
import type { Tlv } from '../smpp/pdu.js';

/** The receipt stat words the simulator can draw, with their message_state. */
export const STATS: ReadonlyMap<string, number> = new Map(
  Object.values(MessageState)
    .filter((s) => s >= 1)
    .map((s) => [statOf(s), s] as const),
);

/** `0x58` for 0x58: the short hex key used in summaries. */
export function statusKey(status: number): string {
  return `0x${(status >>> 0).toString(16).padStart(2, '0')}`;
}

/** Reads a command_status given as hex (0x45), decimal (69) or name (ESME_RSUBMITFAIL). */
export function parseStatus(text: string): number {
  const t = text.trim();
  let n: number | undefined;
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^[0-9]{1,10}$/.test(t)) n = Number(t);
  else n = statusByName(t.toUpperCase());
  if (n === undefined || !Number.isInteger(n) || n <= 0 || n > 0xffffffff)
    throw new InvalidInputError(`not an error status: ${text} (use 0x45, 69 or ESME_RSUBMITFAIL)`);
  return n;
}

/** A comma-separated list of statuses. */
export function parseStatusList(text: string): number[] {
  const out = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseStatus);
  if (out.length === 0) throw new InvalidInputError('empty status list');
  return out;
}

export interface StatWeight {
  stat: string;
  state: number;
  weight: number;
}

/** `DELIVRD=90,UNDELIV=10` → weights (at least one positive). */
export function parseStatWeights(text: string): StatWeight[] {
  const out: StatWeight[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]+)(?:=([0-9]+(?:\.[0-9]+)?))?$/.exec(part);
    if (!m) throw new InvalidInputError(`bad receipt weight "${part}" (want STAT=weight, e.g. DELIVRD=90)`);
    const stat = m[1]!.toUpperCase();
    const state = STATS.get(stat);
    if (state === undefined) throw new InvalidInputError(`unknown receipt stat ${stat} (one of ${[...STATS.keys()].join(', ')})`);
    out.push({ stat, state, weight: m[2] === undefined ? 1 : Number(m[2]) });
  }
  if (!out.some((w) => w.weight > 0)) throw new InvalidInputError(`receipt weights "${text}" have no positive weight`);
  return out;
}

/** Draws one entry with probability proportional to its weight. */
export function pickWeighted(weights: readonly StatWeight[], random: () => number): StatWeight {
  const total = weights.reduce((s, w) => s + w.weight, 0);
  let r = random() * total;
  for (const w of weights) {
    if (r < w.weight) return w;
    r -= w.weight;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]!.weight > 0) return weights[i]!;
  return weights[0]!;
}

/**
 * An address or a numeric range of them: `4917000000..4917099999` (inclusive; leading zeros and
 * the width of the first bound are kept), or one fixed address.
 */
export class AddressRange {
  readonly size: number;
  private readonly from: number;
  private readonly width: number;
  private readonly fixed: string | undefined;

  constructor(readonly spec: string) {
    const m = /^([0-9]{1,15})\.\.([0-9]{1,15})$/.exec(spec.trim());
    if (m) {
      this.from = Number(m[1]);
      const to = Number(m[2]);
      if (to < this.from) throw new InvalidInputError(`address range ${spec} runs backwards`);
      this.size = to - this.from + 1;
      this.width = m[1]!.length;
      this.fixed = undefined;
    } else {
      if (spec.length === 0 || spec.length > 20 || spec.includes('..'))
        throw new InvalidInputError(`bad address "${spec}" (an address of up to 20 characters or a range FROM..TO)`);
      this.fixed = spec;
      this.from = 0;
      this.size = 1;
      this.width = 0;
    }
  }

  /** The i-th address of the range (wrapping). */
  at(i: number): string {
    if (this.fixed !== undefined) return this.fixed;
    return String(this.from + (i % this.size)).padStart(this.width, '0');
  }

  random(random: () => number): string {
    return this.at(Math.floor(random() * this.size));
  }

  /** TON/NPI for the address: international/E.164 for digits, alphanumeric otherwise. */
  get tonNpi(): { ton: number; npi: number } {
    const sample = this.at(0);
    if (/^[0-9]+$/.test(sample)) return sample.length <= 6 ? { ton: 3, npi: 0 } : { ton: 1, npi: 1 };
    return { ton: 5, npi: 0 };
  }
}

/** mulberry32: a small seeded generator for reproducible runs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of the first `n` values (sorted in place), in ms with 0.01 precision. */
export function percentiles(values: Float64Array, n: number): Percentiles {
  if (n <= 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const v = values.subarray(0, n).sort();
  const at = (p: number) => round2(v[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round2(v[n - 1]!) };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Text as SMS octets: data_coding 0 (ASCII) when it fits, else UCS-2 (data_coding 8). */
export function encodeText(text: string): { data_coding: number; short_message: Buffer } {
  if (/^[\p{ASCII}]*$/u.test(text)) return { data_coding: 0, short_message: Buffer.from(text, 'latin1') };
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return { data_coding: 8, short_message: b };
}

/** The message text of a PDU (short_message, else message_payload), decoded for its data_coding. */
export function decodeText(dataCoding: number, shortMessage: Buffer | undefined, tlvs: Tlv[] | undefined): string {
  let bytes = shortMessage !== undefined && shortMessage.length > 0 ? shortMessage : undefined;
  if (bytes === undefined) bytes = tlvs?.find((t) => t.tag === MESSAGE_PAYLOAD_TAG)?.value;
  if (bytes === undefined) return '';
  if (dataCoding === 8 && bytes.length % 2 === 0) return Buffer.from(bytes).swap16().toString('utf16le');
  return bytes.toString('latin1');
}
