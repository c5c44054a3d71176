// Typed shapes of decoded PDUs. The wire layout comes from the `smpp` tables (defs.ts); these types
// mirror it for the compiler, and test/unit/smpp/defs.test.ts checks that they list exactly the
// fields those tables do, in the same order.

/** One TLV as it was on the wire: kept raw so that a PDU passed through is re-encoded unchanged. */
export interface Tlv {
  tag: number;
  value: Buffer;
}

export interface DestAddress {
  /** 1 = SME address, 2 = distribution list name. */
  dest_flag: 1 | 2;
  dest_addr_ton: number;
  dest_addr_npi: number;
  /** SME address (dest_flag 1) or list name (dest_flag 2). */
  destination_addr: string;
}

export interface UnsuccessSme {
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  error_status_code: number;
}

export interface BindBody {
  system_id: string;
  password: string;
  system_type: string;
  interface_version: number;
  addr_ton: number;
  addr_npi: number;
  address_range: string;
}

/** submit_sm and deliver_sm share their body. */
export interface ShortMessageBody {
  service_type: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  esm_class: number;
  protocol_id: number;
  priority_flag: number;
  schedule_delivery_time: string;
  validity_period: string;
  registered_delivery: number;
  replace_if_present_flag: number;
  data_coding: number;
  sm_default_msg_id: number;
  /** Raw octets: no text encoding is applied by the codec. */
  short_message: Buffer;
}

export interface MessageIdBody {
  message_id: string;
}

export interface SystemIdBody {
  system_id: string;
}

type Empty = Record<never, never>;

export interface Bodies {
  bind_transmitter: BindBody;
  bind_transmitter_resp: SystemIdBody;
  bind_receiver: BindBody;
  bind_receiver_resp: SystemIdBody;
  bind_transceiver: BindBody;
  bind_transceiver_resp: SystemIdBody;
  outbind: { system_id: string; password: string };
  unbind: Empty;
  unbind_resp: Empty;
  generic_nack: Empty;
  enquire_link: Empty;
  enquire_link_resp: Empty;
  submit_sm: ShortMessageBody;
  submit_sm_resp: MessageIdBody;
  deliver_sm: ShortMessageBody;
  deliver_sm_resp: MessageIdBody;
  submit_multi: {
    service_type: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    dest_address: DestAddress[];
    esm_class: number;
    protocol_id: number;
    priority_flag: number;
    schedule_delivery_time: string;
    validity_period: string;
    registered_delivery: number;
    replace_if_present_flag: number;
    data_coding: number;
    sm_default_msg_id: number;
    short_message: Buffer;
  };
  submit_multi_resp: { message_id: string; unsuccess_sme: UnsuccessSme[] };
  data_sm: {
    service_type: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    dest_addr_ton: number;
    dest_addr_npi: number;
    destination_addr: string;
    esm_class: number;
    registered_delivery: number;
    data_coding: number;
  };
  data_sm_resp: MessageIdBody;
  query_sm: { message_id: string; source_addr_ton: number; source_addr_npi: number; source_addr: string };
  query_sm_resp: { message_id: string; final_date: string; message_state: number; error_code: number };
  cancel_sm: {
    service_type: string;
    message_id: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    dest_addr_ton: number;
    dest_addr_npi: number;
    destination_addr: string;
  };
  cancel_sm_resp: Empty;
  replace_sm: {
    message_id: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    schedule_delivery_time: string;
    validity_period: string;
    registered_delivery: number;
    sm_default_msg_id: number;
    short_message: Buffer;
  };
  replace_sm_resp: Empty;
  alert_notification: {
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    esme_addr_ton: number;
    esme_addr_npi: number;
    esme_addr: string;
  };
  // SMPP 5.0 broadcast operations: the tables carry them, so the codec does too.
  broadcast_sm: {
    service_type: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
    message_id: string;
    priority_flag: number;
    schedule_delivery_time: string;
    validity_period: string;
    replace_if_present_flag: number;
    data_coding: number;
    sm_default_msg_id: number;
  };
  broadcast_sm_resp: MessageIdBody;
  query_broadcast_sm: { message_id: string; source_addr_ton: number; source_addr_npi: number; source_addr: string };
  query_broadcast_sm_resp: MessageIdBody;
  cancel_broadcast_sm: {
    service_type: string;
    message_id: string;
    source_addr_ton: number;
    source_addr_npi: number;
    source_addr: string;
  };
  cancel_broadcast_sm_resp: Empty;
}

export type CommandName = keyof Bodies;

export interface PduHeader<C extends CommandName = CommandName> {
  command: C;
  command_status: number;
  sequence_number: number;
  /** Optional parameters in wire order; absent when the PDU has none. */
  tlvs?: Tlv[];
}

/** A decoded PDU of one command. */
export type PduOf<C extends CommandName> = PduHeader<C> & Bodies[C];

/** Any decoded PDU; switch on `command` to narrow it. */
export type Pdu = { [C in CommandName]: PduOf<C> }[CommandName];

/** What the encoder takes: missing body fields take their defaults (0, '', empty). */
export type PduInput<C extends CommandName = CommandName> = { command: C; command_status?: number; sequence_number: number; tlvs?: Tlv[] } & Partial<Bodies[C]>;

/** Requests whose response the session waits for. */
export type RequestName = Exclude<CommandName, `${string}_resp` | 'generic_nack' | 'outbind' | 'alert_notification'>;
/** The response command of a request. */
export type ResponseOf<C extends RequestName> = `${C}_resp` extends CommandName ? `${C}_resp` : never;
