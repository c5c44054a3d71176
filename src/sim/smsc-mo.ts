// The SMSC simulator's MO source: with --mo-rate it makes MO deliver_sm (esm_class 0) from a
// sender range, a list of short codes and a list of texts, at the given rate but only while a
// receiver is bound to take them and the backlog is small, up to --mo-count. It also builds the
// deliver_sm for sendMo(). The MOs go out through the delivery lines like receipts do.
import type { Clock, TimerHandle } from '../clock.js';
import type { Tlv } from '../smpp/pdu.js';
import type { Deliveries, Outgoing } from './smsc-delivery.js';
import type { SmscSimOptions, SmscStats } from './smsc-types.js';
import { AddressRange, encodeText } from './util.js';

/** What the MO source needs from the simulator that owns it. */
export interface MoHost {
  readonly options: SmscSimOptions;
  readonly stats: SmscStats;
  readonly clock: Clock;
  readonly random: () => number;
  readonly deliveries: Deliveries;
  /** True once stop() was called (and until the next start()). */
  stopped(): boolean;
}

export class MoSource {
  private readonly options: SmscSimOptions;
  private readonly stats: SmscStats;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly moFrom: AddressRange;
  private readonly moTo: string[];
  private readonly moText: string[];
  private moTimer: TimerHandle | undefined;
  private moLast = 0;
  private moCredit = 0;
  /** MOs made by --mo-rate (counted against --mo-count; sendMo() ones are not). */
  private moGenerated = 0;

  constructor(private readonly host: MoHost) {
    const options = host.options;
    this.options = options;
    this.stats = host.stats;
    this.clock = host.clock;
    this.random = host.random;
    this.moFrom = new AddressRange(options.moFrom ?? '4917000000..4917099999');
    this.moTo = options.moTo && options.moTo.length > 0 ? options.moTo : ['12345'];
    this.moText = options.moText && options.moText.length > 0 ? options.moText : ['VOTE A'];
  }

  /** With --mo-rate: starts making MOs. */
  start(): void {
    if ((this.options.moRate ?? 0) > 0) {
      this.moLast = this.clock.now();
      this.moTimer = this.clock.setTimeout(() => this.moTick(), this.moInterval());
    }
  }

  stop(): void {
    if (this.moTimer !== undefined) this.clock.clearTimeout(this.moTimer);
    this.moTimer = undefined;
  }

  // ---- MO ---------------------------------------------------------------------------------------

  private moInterval(): number {
    return Math.max(10, Math.min(1000, 1000 / (this.options.moRate ?? 1)));
  }

  private moTick(): void {
    this.moTimer = undefined;
    if (this.host.stopped()) return;
    const rate = this.options.moRate ?? 0;
    const now = this.clock.now();
    this.moCredit += (rate * (now - this.moLast)) / 1000;
    this.moLast = now;
    const target = this.options.moSystemId;
    const hasReceiver = this.host.deliveries.hasReceiver(target);
    const backlog = this.host.deliveries.backlog(target);
    // MOs are made only while someone can take them, and at most one second's worth at a time.
    if (!hasReceiver || backlog > 10_000) this.moCredit = 0;
    this.moCredit = Math.min(this.moCredit, Math.max(1, rate));
    const left = this.options.moCount === undefined ? Infinity : this.options.moCount - this.moGenerated;
    const n = Math.max(0, Math.min(Math.floor(this.moCredit), left));
    this.moCredit -= n;
    for (let i = 0; i < n; i++) {
      this.moGenerated++;
      const from = this.moFrom.random(this.random);
      const to = this.moTo[Math.floor(this.random() * this.moTo.length)] ?? this.moTo[0]!;
      const text = this.moText[Math.floor(this.random() * this.moText.length)] ?? this.moText[0]!;
      this.host.deliveries.ready(this.newMo(from, this.moFrom.tonNpi, to, text, target));
    }
    if (left > n) this.moTimer = this.clock.setTimeout(() => this.moTick(), this.moInterval());
  }

  newMo(from: string, { ton, npi }: { ton: number; npi: number }, to: string, text: string, target: string | undefined, tlvs?: Tlv[]): Outgoing {
    const toRange = new AddressRange(to).tonNpi;
    this.stats.mosCreated++;
    return {
      kind: 'mo',
      target,
      messageId: '',
      stat: '',
      text,
      attempts: 0,
      pdu: {
        command: 'deliver_sm',
        source_addr_ton: ton,
        source_addr_npi: npi,
        source_addr: from,
        dest_addr_ton: toRange.ton,
        dest_addr_npi: toRange.npi,
        destination_addr: to,
        esm_class: 0,
        ...encodeText(text),
        ...(tlvs !== undefined && tlvs.length > 0 ? { tlvs } : {}),
      },
    };
  }
}
