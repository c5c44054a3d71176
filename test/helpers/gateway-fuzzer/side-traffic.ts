// Traffic towards the ESMEs while they fuzz, paced by the units sent: MOs with hostile texts from
// the simulator (through sendMo), and the hostile carrier's own requests; and the record of every
// MO sent, so that each MO the gateway hands an ESME can be checked as one a carrier sent, unchanged.
import type { SmscSimulator } from '../../../src/sim/smsc.js';
import { encodeText, seededRandom } from '../../../src/sim/util.js';
import { statusName } from '../../../src/smpp/defs.js';
import type { PduInput, PduOf, Tlv } from '../../../src/smpp/pdu.js';
import { hostileAddress, hostileText, hostileTlvs } from '../random-pdu.js';
import type { HostileCarrier } from './carrier.js';
import { MO_KEYWORDS, MO_SHORT_CODES } from './field-values.js';
import { PAYLOAD, bump, pick } from './shared.js';
import type { GatewayFuzzSummary } from './summary.js';

/** MOs sent by either carrier, by what the ESME must find in the deliver_sm: addresses and octets. */
export class MoKeys {
  private readonly keys = new Set<string>();
  sent = 0;

  static key(source: string, destination: string, sm: Buffer, tlvs: Tlv[] | undefined): string {
    const payload = tlvs?.find((t) => t.tag === PAYLOAD)?.value;
    return `${source}\u0000${destination}\u0000${sm.toString('hex')}\u0000${payload ? payload.subarray(0, 64).toString('hex') : ''}`;
  }

  add(pdu: PduInput<'deliver_sm'> | PduInput<'data_sm'>): void {
    if (((pdu.esm_class ?? 0) & 0x3c) === 0x04) return; // receipts: the gateway answers them, never passes them on
    this.sent++;
    if (this.keys.size < 500_000)
      this.keys.add(
        MoKeys.key(
          pdu.source_addr ?? '',
          pdu.destination_addr ?? '',
          'short_message' in pdu ? (pdu.short_message ?? Buffer.alloc(0)) : Buffer.alloc(0),
          pdu.tlvs,
        ),
      );
  }

  has(pdu: PduOf<'deliver_sm'>): boolean {
    return this.keys.has(MoKeys.key(pdu.source_addr, pdu.destination_addr, pdu.short_message, pdu.tlvs));
  }
}

export class SideTraffic {
  private readonly rand: () => number;
  private moInFlight = 0;
  private moCredit = 0;
  private carrierCredit = 0;

  constructor(
    seed: number,
    private readonly sim: SmscSimulator,
    private readonly carrier: HostileCarrier,
    private readonly moKeys: MoKeys,
    private readonly s: GatewayFuzzSummary,
    /** One carrier request per this many units (0: none). */
    private readonly carrierEvery: number,
    /** One simulator MO per this many units (0: none). */
    private readonly moEvery: number,
  ) {
    this.rand = seededRandom(seed ^ 0x3001);
  }

  /** `units` more were sent: what is due of each kind goes out. */
  paced(units: number): void {
    const { sim, s } = this;
    if (this.carrierEvery > 0) {
      this.carrierCredit += units / this.carrierEvery;
      while (this.carrierCredit >= 1) {
        this.carrierCredit--;
        this.carrier.push();
      }
    }
    if (this.moEvery > 0) {
      this.moCredit += units / this.moEvery;
      while (this.moCredit >= 1 && this.moInFlight < 50) {
        this.moCredit--;
        const rand = this.rand;
        const addr = (a: string): string => (a.length === 0 || a.includes('..') ? '4917000000' : a);
        const from = addr(hostileAddress(rand, 20, ['4917']));
        const to = addr(rand() < 0.8 ? pick(rand, MO_SHORT_CODES) : hostileAddress(rand, 20));
        let text = `${pick(rand, MO_KEYWORDS)}${hostileText(rand, 60)}`;
        if (rand() < 0.3) text += pick(rand, ['\u00e9\u00e8', '\u4e2d\u6587', '\ud83d\ude00', '\ud800', '\u2028\u0085', '\u0000\u001b[31m']);
        const tlvs = rand() < 0.3 ? hostileTlvs(rand, 'maybe') : undefined;
        const sm = encodeText(text).short_message;
        if (sm.length > 254) continue;
        this.moKeys.add({
          command: 'deliver_sm',
          sequence_number: 1,
          source_addr: from,
          destination_addr: to,
          esm_class: 0,
          short_message: sm,
          ...(tlvs ? { tlvs } : {}),
        });
        this.moInFlight++;
        s.simulator.mosSent++;
        sim
          .sendMo({ from, to, text, ...(tlvs ? { tlvs } : {}) })
          .then(
            (status) => bump(s.simulator.moStatuses, statusName(status)),
            (err: Error) => bump(s.simulator.moStatuses, `rejected: ${err.message.slice(0, 60)}`),
          )
          .finally(() => this.moInFlight--);
      }
    }
    // The simulator remembers every accepted submit's key for its duplicate count: not needed here.
    if (sim.keys.size > 50_000) sim.keys.clear();
  }
}
