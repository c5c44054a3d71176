// Well-formed requests with hostile field values, as a bound ESME may send them: submit_sm,
// data_sm, submit_multi, query_sm, cancel_sm, replace_sm, and submit_sm or data_sm at the
// protocol's size limit.
import type { DestAddress, PduInput } from '../../../src/smpp/pdu.js';
import { hostileAddress, hostileShortMessage, hostileSmppTime, hostileText, hostileTlvs } from '../random-pdu.js';
import { MT_PREFIXES, dataCoding, esmClass, filledTo, registeredDelivery, ton } from './field-values.js';
import { PAYLOAD, int, pick } from './shared.js';

/** Ids the gateway gave this run (hex), for query_sm, cancel_sm and replace_sm to aim at. */
export class RecentIds {
  private readonly ids: string[] = [];
  private next = 0;

  add(id: string): void {
    if (this.ids.length < 1024) this.ids.push(id);
    else this.ids[this.next++ % 1024] = id;
  }

  /** A recent id (sometimes in another case or with spaces), else a hostile one. */
  target(rand: () => number): string {
    if (this.ids.length > 0 && rand() < 0.75) {
      const id = pick(rand, this.ids);
      const r = rand();
      if (r < 0.7) return id;
      if (r < 0.8) return id.toUpperCase();
      if (r < 0.9) return ` ${id} `;
      return `0${id}`;
    }
    return rand() < 0.5
      ? pick(rand, ['', '0', '-1', 'ffffffffffffff', '1fffffffffffff', '20000000000000', '7fffffff', ' ', '0x10', '1e3'])
      : hostileText(rand, 64);
  }
}

export function hostileSubmit(rand: () => number): PduInput<'submit_sm'> {
  const esm = esmClass(rand);
  const tlvs = hostileTlvs(rand);
  const payload = tlvs?.some((t) => t.tag === PAYLOAD && t.value.length > 0) ?? false;
  return {
    command: 'submit_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: hostileAddress(rand, 20, MT_PREFIXES),
    esm_class: esm,
    protocol_id: rand() < 0.7 ? 0 : int(rand, 256),
    priority_flag: rand() < 0.8 ? int(rand, 4) : int(rand, 256),
    schedule_delivery_time: hostileSmppTime(rand),
    validity_period: hostileSmppTime(rand),
    registered_delivery: registeredDelivery(rand),
    replace_if_present_flag: rand() < 0.8 ? int(rand, 2) : int(rand, 256),
    data_coding: dataCoding(rand),
    sm_default_msg_id: rand() < 0.8 ? 0 : int(rand, 256),
    short_message: payload && rand() < 0.9 ? Buffer.alloc(0) : hostileShortMessage(rand, (esm & 0x40) !== 0),
    ...(tlvs ? { tlvs } : {}),
  };
}

export function hostileDataSm(rand: () => number): PduInput<'data_sm'> {
  const tlvs = hostileTlvs(rand, rand() < 0.85 ? 'always' : 'maybe');
  return {
    command: 'data_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: rand() < 0.9 ? hostileAddress(rand, 20) : hostileText(rand, 64),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: rand() < 0.9 ? hostileAddress(rand, 20, MT_PREFIXES) : hostileText(rand, 64),
    esm_class: esmClass(rand),
    registered_delivery: registeredDelivery(rand),
    data_coding: dataCoding(rand),
    ...(tlvs ? { tlvs } : {}),
  };
}

export function hostileMulti(rand: () => number): PduInput<'submit_multi'> {
  const n = rand() < 0.03 ? int(rand, 255) : rand() < 0.05 ? 0 : 1 + int(rand, 5);
  const dest_address: DestAddress[] = [];
  for (let i = 0; i < n; i++) {
    dest_address.push(
      rand() < 0.9
        ? { dest_flag: 1, dest_addr_ton: ton(rand), dest_addr_npi: ton(rand), destination_addr: hostileAddress(rand, 20, MT_PREFIXES) }
        : { dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: hostileText(rand, 20) },
    );
  }
  const { destination_addr: _d, dest_addr_ton: _t, dest_addr_npi: _n, ...rest } = hostileSubmit(rand);
  void _d;
  void _t;
  void _n;
  return { ...rest, command: 'submit_multi', dest_address };
}

export function hostileQuery(rand: () => number, ids: RecentIds): PduInput<'query_sm'> {
  return {
    command: 'query_sm',
    sequence_number: 1,
    message_id: ids.target(rand),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
  };
}

export function hostileCancel(rand: () => number, ids: RecentIds): PduInput<'cancel_sm'> {
  return {
    command: 'cancel_sm',
    sequence_number: 1,
    service_type: hostileText(rand, 5),
    message_id: rand() < 0.9 ? ids.target(rand) : '',
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    dest_addr_ton: ton(rand),
    dest_addr_npi: ton(rand),
    destination_addr: hostileAddress(rand, 20),
  };
}

export function hostileReplace(rand: () => number, ids: RecentIds): PduInput<'replace_sm'> {
  return {
    command: 'replace_sm',
    sequence_number: 1,
    message_id: ids.target(rand),
    source_addr_ton: ton(rand),
    source_addr_npi: ton(rand),
    source_addr: hostileAddress(rand, 20),
    schedule_delivery_time: hostileSmppTime(rand),
    validity_period: hostileSmppTime(rand),
    registered_delivery: registeredDelivery(rand),
    sm_default_msg_id: rand() < 0.8 ? 0 : int(rand, 256),
    short_message: hostileShortMessage(rand, false),
  };
}

/** A submit_sm or data_sm whose whole PDU is `total` bytes (the protocol's limit is 65,536). */
export function sizedPdu(rand: () => number, command: 'submit_sm' | 'data_sm', total: number): PduInput<'submit_sm'> | PduInput<'data_sm'> {
  const destination_addr = `4915${String(int(rand, 1e8)).padStart(8, '0')}`;
  const base: PduInput<'submit_sm'> | PduInput<'data_sm'> =
    command === 'submit_sm'
      ? { ...hostileSubmit(rand), destination_addr, validity_period: '', short_message: Buffer.alloc(0) }
      : { ...hostileDataSm(rand), source_addr: hostileAddress(rand, 20), destination_addr };
  return filledTo(rand, base, total);
}
