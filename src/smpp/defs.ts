// SMPP definitions. Command ids, field order, field types, TLV tags and status codes come from the
// `smpp` package's tables (the project's one source of SMPP definitions); field maxima and the
// status to answer for a bad field come from the SMPP 3.4 specification (shared/SMPP-FACTS.md),
// which those tables do not carry.
import smpp from 'smpp';

/** How one mandatory body field sits on the wire. */
export type FieldKind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'cstring'
  | 'octets' // one length octet, then that many raw bytes (sm_length + short_message)
  | 'dest_addresses' // number_of_dests + dest_address entries (submit_multi)
  | 'unsuccess_smes'; // no_unsuccess + unsuccess_sme entries (submit_multi_resp)

/** How a TLV value sits on the wire. `string` is text without a NUL, `octets` raw bytes. */
export type TlvKind = 'u8' | 'u16' | 'u32' | 'cstring' | 'string' | 'octets';

export interface FieldDef {
  readonly name: string;
  readonly kind: FieldKind;
  /** cstring: the largest size including the NUL; octets: the largest length; lists: the most
   * entries; integers: the largest value. */
  readonly max: number;
  /** cstring: the only allowed lengths without the NUL (the time fields: empty or 16). */
  readonly exact?: readonly number[];
  /** The command_status that reports this field as invalid. */
  readonly status: number;
  /** The value a missing field takes when a PDU is built or an empty error response decoded. */
  readonly default: number | string;
}

export interface CommandDef {
  readonly name: string;
  readonly id: number;
  readonly isResponse: boolean;
  readonly fields: readonly FieldDef[];
  /** For a request: the name of its response; for a response: its request. */
  readonly pair?: string;
}

export interface TlvDef {
  readonly name: string;
  readonly tag: number;
  readonly kind: TlvKind;
  readonly multiple: boolean;
}

/** Every status name the smpp tables define (SMPP 3.4 and the 5.0 broadcast ones); defs.test checks the list is whole. */
const STATUS_NAMES = [
  'ESME_ROK',
  'ESME_RINVMSGLEN',
  'ESME_RINVCMDLEN',
  'ESME_RINVCMDID',
  'ESME_RINVBNDSTS',
  'ESME_RALYBND',
  'ESME_RINVPRTFLG',
  'ESME_RINVREGDLVFLG',
  'ESME_RSYSERR',
  'ESME_RINVSRCADR',
  'ESME_RINVDSTADR',
  'ESME_RINVMSGID',
  'ESME_RBINDFAIL',
  'ESME_RINVPASWD',
  'ESME_RINVSYSID',
  'ESME_RCANCELFAIL',
  'ESME_RREPLACEFAIL',
  'ESME_RMSGQFUL',
  'ESME_RINVSERTYP',
  'ESME_RINVNUMDESTS',
  'ESME_RINVDLNAME',
  'ESME_RINVDESTFLAG',
  'ESME_RINVSUBREP',
  'ESME_RINVESMCLASS',
  'ESME_RCNTSUBDL',
  'ESME_RSUBMITFAIL',
  'ESME_RINVSRCTON',
  'ESME_RINVSRCNPI',
  'ESME_RINVDSTTON',
  'ESME_RINVDSTNPI',
  'ESME_RINVSYSTYP',
  'ESME_RINVREPFLAG',
  'ESME_RINVNUMMSGS',
  'ESME_RTHROTTLED',
  'ESME_RINVSCHED',
  'ESME_RINVEXPIRY',
  'ESME_RINVDFTMSGID',
  'ESME_RX_T_APPN',
  'ESME_RX_P_APPN',
  'ESME_RX_R_APPN',
  'ESME_RQUERYFAIL',
  'ESME_RINVTLVSTREAM',
  'ESME_RTLVNOTALLWD',
  'ESME_RINVTLVLEN',
  'ESME_RMISSINGTLV',
  'ESME_RINVTLVVAL',
  'ESME_RDELIVERYFAILURE',
  'ESME_RUNKNOWNERR',
  'ESME_RSERTYPUNAUTH',
  'ESME_RPROHIBITED',
  'ESME_RSERTYPUNAVAIL',
  'ESME_RSERTYPDENIED',
  'ESME_RINVDCS',
  'ESME_RINVSRCADDRSUBUNIT',
  'ESME_RINVDSTADDRSUBUNIT',
  'ESME_RINVBCASTFREQINT',
  'ESME_RINVBCASTALIAS_NAME',
  'ESME_RINVBCASTAREAFMT',
  'ESME_RINVNUMBCAST_AREAS',
  'ESME_RINVBCASTCNTTYPE',
  'ESME_RINVBCASTMSGCLASS',
  'ESME_RBCASTFAIL',
  'ESME_RBCASTQUERYFAIL',
  'ESME_RBCASTCANCELFAIL',
  'ESME_RINVBCAST_REP',
  'ESME_RINVBCASTSRVGRP',
  'ESME_RINVBCASTCHANIND',
] as const;

export type StatusName = (typeof STATUS_NAMES)[number];

const statusNames = new Map<number, string>();
for (const [name, code] of Object.entries(smpp.errors)) statusNames.set(code, name);

/** `ESME_RTHROTTLED` for 0x58; `0x000000ab` for a status without a name. */
export function statusName(status: number): string {
  return statusNames.get(status) ?? `0x${status.toString(16).padStart(8, '0')}`;
}

function status(name: string): number {
  const code = smpp.errors[name];
  if (code === undefined) throw new Error(`smpp tables lack status ${name}`);
  return code;
}

/** Status codes by name (ESME_ROK, ESME_RINVCMDLEN, …): each name a number, no lookup can miss. */
export const Status: Readonly<Record<StatusName, number>> = Object.freeze(
  Object.fromEntries(STATUS_NAMES.map((name) => [name, status(name)])) as Record<StatusName, number>,
);

/** The code of a status given by name (from a config or a command line); undefined for an unknown name. */
export function statusByName(name: string): number | undefined {
  return Object.hasOwn(Status, name) ? Status[name as StatusName] : undefined;
}

export const ESME_ROK = status('ESME_ROK');
export const ESME_RINVMSGLEN = status('ESME_RINVMSGLEN');
export const ESME_RINVCMDLEN = status('ESME_RINVCMDLEN');
export const ESME_RINVCMDID = status('ESME_RINVCMDID');
export const ESME_RINVBNDSTS = status('ESME_RINVBNDSTS');
export const ESME_RALYBND = status('ESME_RALYBND');
export const ESME_RSYSERR = status('ESME_RSYSERR');
export const ESME_RBINDFAIL = status('ESME_RBINDFAIL');
export const ESME_RMSGQFUL = status('ESME_RMSGQFUL');
export const ESME_RTHROTTLED = status('ESME_RTHROTTLED');
export const ESME_RINVTLVSTREAM = status('ESME_RINVTLVSTREAM');
export const ESME_RINVTLVLEN = status('ESME_RINVTLVLEN');
export const ESME_RINVTLVVAL = status('ESME_RINVTLVVAL');
export const ESME_RINVNUMDESTS = status('ESME_RINVNUMDESTS');
export const ESME_RINVDESTFLAG = status('ESME_RINVDESTFLAG');
export const ESME_RINVDLNAME = status('ESME_RINVDLNAME');
export const ESME_RINVDSTADR = status('ESME_RINVDSTADR');

// Field maxima (sizes include the NUL of a C-octet string) and the status for a bad value.
// A command listed in `in` uses that row instead of the general one.
interface FieldRule {
  max: number;
  status: string;
  exact?: number[];
  in?: string[];
}
const FIELD_RULES: Record<string, FieldRule[]> = {
  system_id: [{ max: 16, status: 'ESME_RINVSYSID' }],
  password: [{ max: 9, status: 'ESME_RINVPASWD' }],
  system_type: [{ max: 13, status: 'ESME_RINVSYSTYP' }],
  address_range: [{ max: 41, status: 'ESME_RINVCMDLEN' }],
  service_type: [{ max: 6, status: 'ESME_RINVSERTYP' }],
  source_addr: [
    { max: 65, status: 'ESME_RINVSRCADR', in: ['data_sm', 'alert_notification'] },
    { max: 21, status: 'ESME_RINVSRCADR' },
  ],
  destination_addr: [
    { max: 65, status: 'ESME_RINVDSTADR', in: ['data_sm'] },
    { max: 21, status: 'ESME_RINVDSTADR' },
  ],
  esme_addr: [{ max: 65, status: 'ESME_RINVDSTADR' }],
  schedule_delivery_time: [{ max: 17, exact: [0, 16], status: 'ESME_RINVSCHED' }],
  validity_period: [{ max: 17, exact: [0, 16], status: 'ESME_RINVEXPIRY' }],
  final_date: [{ max: 17, exact: [0, 16], status: 'ESME_RINVCMDLEN' }],
  message_id: [
    // A carrier's id longer than SMPP's 64 is still its id: read whole, so its receipt can match
    // (logged as an anomaly by the dispatcher) rather than turning an accepted message into a refusal.
    { max: 256, status: 'ESME_RINVMSGID', in: ['submit_sm_resp', 'data_sm_resp', 'submit_multi_resp'] },
    { max: 65, status: 'ESME_RINVMSGID' },
  ],
  short_message: [{ max: 254, status: 'ESME_RINVMSGLEN' }],
  dest_address: [{ max: 254, status: 'ESME_RINVNUMDESTS' }],
  unsuccess_sme: [{ max: 254, status: 'ESME_RINVNUMDESTS' }],
};
const GENERIC_CSTRING_MAX = 65;
const INT_MAX: Partial<Record<FieldKind, number>> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff };

const kindOfType = new Map<unknown, FieldKind>([
  [smpp.types.int8, 'u8'],
  [smpp.types.int16, 'u16'],
  [smpp.types.int32, 'u32'],
  [smpp.types.cstring, 'cstring'],
  [smpp.types.buffer, 'octets'],
  [smpp.types.dest_address_array, 'dest_addresses'],
  [smpp.types.unsuccess_sme_array, 'unsuccess_smes'],
]);

const kindOfTlvType = new Map<unknown, TlvKind>([
  [smpp.types.tlv.int8, 'u8'],
  [smpp.types.tlv.int16, 'u16'],
  [smpp.types.tlv.int32, 'u32'],
  [smpp.types.tlv.cstring, 'cstring'],
  [smpp.types.tlv.string, 'string'],
  [smpp.types.tlv.buffer, 'octets'],
]);

function fieldDef(command: string, name: string, param: { type: unknown; default?: unknown }): FieldDef {
  const kind = kindOfType.get(param.type);
  if (!kind) throw new Error(`smpp tables: unknown type of ${command}.${name}`);
  const rule = FIELD_RULES[name]?.find((r) => !r.in || r.in.includes(command));
  const max = rule?.max ?? (kind === 'cstring' ? GENERIC_CSTRING_MAX : (INT_MAX[kind] ?? 254));
  // Without a rule: a bad octet string is a bad message length; anything else a bad PDU layout.
  const st = rule ? status(rule.status) : kind === 'octets' ? ESME_RINVMSGLEN : ESME_RINVCMDLEN;
  // smpp defaults interface_version to 0x50 (SMPP 5.0); we speak 3.4.
  let dflt: number | string = kind === 'cstring' ? '' : 0;
  if (name === 'interface_version') dflt = 0x34;
  const def: FieldDef = { name, kind, max, status: st, default: dflt };
  return rule?.exact ? { ...def, exact: rule.exact } : def;
}

function buildCommands(): Map<string, CommandDef> {
  const out = new Map<string, CommandDef>();
  for (const [name, cmd] of Object.entries(smpp.commands)) {
    const fields = Object.entries(cmd.params ?? {}).map(([field, param]) => fieldDef(name, field, param));
    const isResponse = (cmd.id & 0x80000000) !== 0;
    const pairName = isResponse ? name.replace(/_resp$/, '') : `${name}_resp`;
    const pair = name !== 'generic_nack' && smpp.commands[pairName] ? pairName : undefined;
    out.set(name, Object.freeze({ name, id: cmd.id >>> 0, isResponse, fields: Object.freeze(fields), ...(pair ? { pair } : {}) }));
  }
  return out;
}

/** Every command the tables define, by name. */
export const COMMANDS: ReadonlyMap<string, CommandDef> = buildCommands();
/** Every command the tables define, by command_id. */
export const COMMANDS_BY_ID: ReadonlyMap<number, CommandDef> = new Map([...COMMANDS.values()].map((c) => [c.id, c]));

function buildTlvs(): Map<string, TlvDef> {
  const out = new Map<string, TlvDef>();
  for (const [name, t] of Object.entries(smpp.tlvs)) {
    if (t.tag !== name) continue; // aliases (alert_on_msg_delivery, …)
    const kind = kindOfTlvType.get(t.type);
    if (!kind) throw new Error(`smpp tables: unknown type of TLV ${name}`);
    out.set(name, Object.freeze({ name, tag: t.id, kind, multiple: t.multiple === true }));
  }
  return out;
}

/** Every standard TLV, by name. */
export const TLVS: ReadonlyMap<string, TlvDef> = buildTlvs();
/** Every standard TLV, by tag. */
export const TLVS_BY_TAG: ReadonlyMap<number, TlvDef> = new Map([...TLVS.values()].map((t) => [t.tag, t]));

function tlvTag(name: string): number {
  const def = TLVS.get(name);
  if (def === undefined) throw new Error(`smpp tables lack TLV ${name}`);
  return def.tag;
}

/** The message_payload TLV (0x0424): a message body too long for short_message, or instead of it. */
export const MESSAGE_PAYLOAD_TAG = tlvTag('message_payload');

/** The sequence number space (SMPP 3.4 §3.2). */
export const MIN_SEQUENCE = 0x00000001;
export const MAX_SEQUENCE = 0x7fffffff;

/** Error responses whose body the spec allows (their TLVs and lists carry the failure's detail). */
export const BODY_ON_ERROR: ReadonlySet<string> = new Set(['data_sm_resp', 'submit_multi_resp']);
