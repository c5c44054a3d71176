// The gateway's message ids. Inside, a message (each part) is a ledger row numbered in order:
// epoch * 2^22 + sequence, where the epoch is the second (since 2025) its block of numbers was
// taken. Such a number is never reused by this database nor by a restored backup of it (a new
// block starts at the current second, past every block the backup's original handed out), and it
// stays below 2^53, a plain JS number. Outside, accounts see node * 2^53 + number run through a
// keyed 64-bit permutation (Speck64/128, cycle-walked into 63 bits): unique across nodes, at most
// 2^63 - 1 so an ESME may keep it as a signed 64-bit integer, and two ids of one account say
// nothing about how many messages the gateway carried between them.
//
// Databases from before these ids keep theirs: rows numbered up to `legacyMax` are shown and
// parsed as their plain row number, as they were given out; no new id is ever shown as a number
// in that range.
import { Speck64 } from './speck.js';

export type IdFormat = 'hex' | 'dec';

/** 2025-01-01T00:00:00Z: epoch 0. */
const EPOCH_BASE_MS = Date.UTC(2025, 0, 1);
const SEQ_BITS = 22;
const SEQ_SPAN = 2 ** SEQ_BITS;
const NODE_BITS = 10;
/** Node numbers 0..1023. */
export const MAX_NODE = 2 ** NODE_BITS - 1;
const TWO32 = 2 ** 32;
/** Row number bits above the low 32 (53 - 32). */
const HIGH_ROW_BITS = 21;
const SIGN = 0x8000_0000;

export interface MessageIdsOptions {
  /** This node's number (0 unless several nodes share the traffic). */
  node: number;
  /** 16 bytes, kept in the database (`meta` table): the same for every node that shares ids. */
  key: Uint8Array;
  /** The highest row number handed out before these ids (0 for a database created with them). */
  legacyMax: number;
  /** The highest row number in the ledger, and the last epoch taken (persisted): new blocks start past both. */
  maxRowId: number;
  lastEpoch: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Records a newly taken epoch (in the ledger's transaction when called from next()). */
  saveEpoch: (epoch: number) => void;
}

export class MessageIds {
  private readonly cipher: Speck64;
  private readonly node: number;
  readonly legacyMax: number;
  private epoch = -1;
  private seq = SEQ_SPAN;
  private floor: number;

  constructor(private readonly o: MessageIdsOptions) {
    if (!Number.isInteger(o.node) || o.node < 0 || o.node > MAX_NODE) throw new RangeError(`node must be an integer 0..${MAX_NODE}, not ${o.node}`);
    this.cipher = new Speck64(o.key);
    this.node = o.node;
    this.legacyMax = o.legacyMax;
    this.floor = Math.max(o.lastEpoch, Math.floor(Math.max(o.maxRowId, o.legacyMax) / SEQ_SPAN)) + 1;
  }

  /** The next row number (a part's ledger id); blocks are taken per second, so ids stay in order. */
  next(): number {
    for (;;) {
      if (this.seq >= SEQ_SPAN) this.takeEpoch();
      const row = this.epoch * SEQ_SPAN + this.seq++;
      // Never show a new id that reads as an old row number (nor 0): skip its number.
      this.permute(row);
      if (this.cipher.x === 0 && this.cipher.y <= this.legacyMax) continue;
      return row;
    }
  }

  /** The id an account sees for a row, in its format. */
  format(row: number, format: IdFormat): string {
    if (row <= this.legacyMax) return format === 'dec' ? String(row) : row.toString(16);
    this.permute(row);
    const hi = this.cipher.x;
    const lo = this.cipher.y;
    if (hi === 0) return format === 'dec' ? String(lo) : lo.toString(16);
    if (format === 'hex') return hi.toString(16) + lo.toString(16).padStart(8, '0');
    return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  /** The row an id an account gave back names on this node, or undefined (malformed, another node's, or never issued). */
  parse(text: string, format: IdFormat): number | undefined {
    const d = this.decode(text, format);
    return d && d.node === this.node ? d.row : undefined;
  }

  /** Node and row of an id; undefined for text that is no id. */
  decode(text: string, format: IdFormat): { node: number; row: number } | undefined {
    const t = text.trim().toLowerCase();
    if (!(format === 'dec' ? /^[0-9]{1,19}$/ : /^[0-9a-f]{1,16}$/).test(t)) return undefined;
    const v = BigInt(format === 'dec' ? t : `0x${t}`);
    if (v <= 0n || v >= 1n << 63n) return undefined;
    if (v <= BigInt(this.legacyMax)) return { node: this.node, row: Number(v) };
    let hi = Number(v >> 32n);
    let lo = Number(v & 0xffff_ffffn);
    do [hi, lo] = this.cipher.decrypt(hi, lo);
    while (hi >= SIGN);
    const row = (hi & (2 ** HIGH_ROW_BITS - 1)) * TWO32 + lo;
    if (row <= this.legacyMax) return undefined;
    return { node: hi >>> HIGH_ROW_BITS, row };
  }

  /** node * 2^53 + row, permuted within [0, 2^63): the high and low 32-bit words, left in cipher.x and cipher.y. */
  private permute(row: number): void {
    const c = this.cipher;
    c.encryptWords(this.node * 2 ** HIGH_ROW_BITS + Math.floor(row / TWO32), row >>> 0);
    while (c.x >= SIGN) c.encryptWords(c.x, c.y);
  }

  private takeEpoch(): void {
    const second = Math.floor((this.o.now() - EPOCH_BASE_MS) / 1000);
    this.epoch = Math.max(second, this.floor);
    if (this.epoch >= 2 ** (53 - SEQ_BITS)) throw new RangeError('message ids ran out of epochs (year 2093)');
    this.floor = this.epoch + 1;
    this.seq = 0;
    this.o.saveEpoch(this.epoch);
  }
}
