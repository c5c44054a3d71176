// defs.ts is derived from the smpp package's tables; pdu.ts mirrors them by hand for the compiler.
// These tests hold the three together: every command, field (in order), TLV and status of the
// tables is in defs, and the typed bodies in pdu.ts list exactly the same fields in the same order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import smpp from 'smpp';
import {
  BODY_ON_ERROR,
  COMMANDS,
  COMMANDS_BY_ID,
  ESME_RINVCMDLEN,
  MAX_SEQUENCE,
  MIN_SEQUENCE,
  MESSAGE_PAYLOAD_TAG,
  Status,
  statusByName,
  TLVS,
  TLVS_BY_TAG,
  statusName,
  type FieldKind,
  type TlvKind,
} from '../../../src/smpp/defs.js';
import type { Bodies, CommandName } from '../../../src/smpp/pdu.js';
import { decode, encode } from '../../../src/smpp/codec.js';

const sm = Buffer.from('hi');
const shortMessageBody = {
  service_type: 'CMT',
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '4477',
  dest_addr_ton: 1,
  dest_addr_npi: 1,
  destination_addr: '3361',
  esm_class: 0,
  protocol_id: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 1,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
  short_message: sm,
};
const bind = { system_id: 'esme', password: 'pw', system_type: 'VMA', interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: '' };

/**
 * One fully-populated body per command. Typed as Bodies[C]: the compiler refuses a missing or an
 * extra field; the test below checks that the keys come in the tables' order.
 */
const SAMPLES: { [C in CommandName]: Bodies[C] } = {
  alert_notification: { source_addr_ton: 1, source_addr_npi: 1, source_addr: '4477', esme_addr_ton: 0, esme_addr_npi: 0, esme_addr: 'esme' },
  bind_receiver: { ...bind },
  bind_receiver_resp: { system_id: 'smsc' },
  bind_transmitter: { ...bind },
  bind_transmitter_resp: { system_id: 'smsc' },
  bind_transceiver: { ...bind },
  bind_transceiver_resp: { system_id: 'smsc' },
  broadcast_sm: {
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4477',
    message_id: 'b1',
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '',
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
  },
  broadcast_sm_resp: { message_id: 'b1' },
  cancel_broadcast_sm: { service_type: '', message_id: 'b1', source_addr_ton: 1, source_addr_npi: 1, source_addr: '4477' },
  cancel_broadcast_sm_resp: {},
  cancel_sm: {
    service_type: '',
    message_id: 'm1',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4477',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '3361',
  },
  cancel_sm_resp: {},
  data_sm: {
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4477',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '3361',
    esm_class: 0,
    registered_delivery: 1,
    data_coding: 0,
  },
  data_sm_resp: { message_id: 'm1' },
  deliver_sm: { ...shortMessageBody },
  deliver_sm_resp: { message_id: '' },
  enquire_link: {},
  enquire_link_resp: {},
  generic_nack: {},
  outbind: { system_id: 'smsc', password: 'pw' },
  query_broadcast_sm: { message_id: 'b1', source_addr_ton: 1, source_addr_npi: 1, source_addr: '4477' },
  query_broadcast_sm_resp: { message_id: 'b1' },
  query_sm: { message_id: 'm1', source_addr_ton: 1, source_addr_npi: 1, source_addr: '4477' },
  query_sm_resp: { message_id: 'm1', final_date: '251121103000000+', message_state: 2, error_code: 0 },
  replace_sm: {
    message_id: 'm1',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4477',
    schedule_delivery_time: '',
    validity_period: '',
    registered_delivery: 0,
    sm_default_msg_id: 0,
    short_message: sm,
  },
  replace_sm_resp: {},
  submit_multi: {
    service_type: '',
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '4477',
    dest_address: [
      { dest_flag: 1, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '3361' },
      { dest_flag: 2, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: 'list' },
    ],
    esm_class: 0,
    protocol_id: 0,
    priority_flag: 0,
    schedule_delivery_time: '',
    validity_period: '000001000000000R',
    registered_delivery: 1,
    replace_if_present_flag: 0,
    data_coding: 0,
    sm_default_msg_id: 0,
    short_message: sm,
  },
  submit_multi_resp: { message_id: 'm1', unsuccess_sme: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '3361', error_status_code: 0x0b }] },
  submit_sm: { ...shortMessageBody },
  submit_sm_resp: { message_id: 'm1' },
  unbind: {},
  unbind_resp: {},
};

const fieldNames = (name: string): string[] => COMMANDS.get(name)!.fields.map((f) => f.name);

test('every sample body (typed Bodies[C]) has exactly the fields of the tables, in their order', () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), [...COMMANDS.keys()].sort());
  for (const [name, sample] of Object.entries(SAMPLES)) {
    assert.deepEqual(Object.keys(sample), fieldNames(name), name);
    assert.deepEqual(Object.keys(sample), Object.keys(smpp.commands[name]?.params ?? {}), name);
  }
});

test('every sample body round-trips through the codec', () => {
  for (const [name, sample] of Object.entries(SAMPLES)) {
    const pdu = { command: name as CommandName, command_status: 0, sequence_number: 17, ...sample, tlvs: undefined };
    assert.deepEqual(decode(encode(pdu)), pdu, name);
  }
});

// The samples above check completeness; the order of the declarations themselves is read from
// pdu.ts with the TypeScript parser (the compiler does not care about property order).
function declaredBodies(): Map<string, string[]> {
  const file = fileURLToPath(new URL('../../../../src/smpp/pdu.ts', import.meta.url));
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const named = new Map<string, ts.Node>();
  src.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) named.set(n.name.text, n);
  });
  const membersOf = (node: ts.Node | undefined, where: string): string[] => {
    if (node === undefined) throw new Error(`pdu.ts: cannot resolve ${where}`);
    if (ts.isInterfaceDeclaration(node) || ts.isTypeLiteralNode(node)) {
      return node.members.map((m) => (m.name !== undefined && ts.isIdentifier(m.name) ? m.name.text : '?'));
    }
    if (ts.isTypeAliasDeclaration(node)) {
      // type Empty = Record<never, never>
      if (ts.isTypeReferenceNode(node.type) && node.type.typeName.getText() === 'Record') return [];
      return membersOf(node.type, where);
    }
    if (ts.isTypeReferenceNode(node)) return membersOf(named.get(node.typeName.getText()), node.typeName.getText());
    throw new Error(`pdu.ts: unexpected type for ${where}`);
  };
  const bodies = named.get('Bodies');
  assert.ok(bodies && ts.isInterfaceDeclaration(bodies));
  const out = new Map<string, string[]>();
  for (const m of bodies.members) {
    assert.ok(ts.isPropertySignature(m) && m.type && ts.isIdentifier(m.name));
    out.set(m.name.text, membersOf(m.type, m.name.text));
  }
  return out;
}

test('the interfaces in pdu.ts declare the fields in the order of the tables', () => {
  const declared = declaredBodies();
  assert.deepEqual([...declared.keys()].sort(), Object.keys(smpp.commands).sort());
  for (const [name, fields] of declared) assert.deepEqual(fields, fieldNames(name), name);
});

// ---- defs against the smpp tables ------------------------------------------------------------

const KIND_OF_TYPE = new Map<unknown, FieldKind>([
  [smpp.types.int8, 'u8'],
  [smpp.types.int16, 'u16'],
  [smpp.types.int32, 'u32'],
  [smpp.types.cstring, 'cstring'],
  [smpp.types.buffer, 'octets'],
  [smpp.types.dest_address_array, 'dest_addresses'],
  [smpp.types.unsuccess_sme_array, 'unsuccess_smes'],
]);
const KIND_OF_TLV_TYPE = new Map<unknown, TlvKind>([
  [smpp.types.tlv.int8, 'u8'],
  [smpp.types.tlv.int16, 'u16'],
  [smpp.types.tlv.int32, 'u32'],
  [smpp.types.tlv.cstring, 'cstring'],
  [smpp.types.tlv.string, 'string'],
  [smpp.types.tlv.buffer, 'octets'],
]);

test('COMMANDS holds every smpp command with its id, fields, kinds and response pairing', () => {
  assert.equal(COMMANDS.size, Object.keys(smpp.commands).length);
  for (const [name, cmd] of Object.entries(smpp.commands)) {
    const d = COMMANDS.get(name);
    assert.ok(d, name);
    assert.equal(d.id, cmd.id >>> 0, name);
    assert.equal(COMMANDS_BY_ID.get(cmd.id >>> 0), d, name);
    assert.equal(d.isResponse, (cmd.id & 0x80000000) !== 0, name);
    const params = Object.entries(cmd.params ?? {});
    assert.deepEqual(
      d.fields.map((f) => [f.name, f.kind]),
      params.map(([p, def]) => [p, KIND_OF_TYPE.get(def.type)]),
      name,
    );
    if (d.pair !== undefined) {
      const pair = COMMANDS.get(d.pair);
      assert.ok(pair && pair.pair === name && pair.isResponse !== d.isResponse && (pair.id ^ d.id) >>> 0 === 0x80000000, name);
    }
  }
  // Who has a response: every request but outbind and alert_notification; generic_nack answers none.
  const unpaired = [...COMMANDS.values()]
    .filter((d) => d.pair === undefined)
    .map((d) => d.name)
    .sort();
  assert.deepEqual(unpaired, ['alert_notification', 'generic_nack', 'outbind']);
  assert.equal(COMMANDS.get('nope'), undefined);
  for (const name of BODY_ON_ERROR) assert.ok(COMMANDS.get(name)?.isResponse, name);
});

test('field maxima and statuses follow SMPP-FACTS.md', () => {
  const expect: Record<string, [number, string]> = {
    'bind_transmitter.system_id': [16, 'ESME_RINVSYSID'],
    'bind_transmitter_resp.system_id': [16, 'ESME_RINVSYSID'],
    'outbind.system_id': [16, 'ESME_RINVSYSID'],
    'bind_receiver.password': [9, 'ESME_RINVPASWD'],
    'outbind.password': [9, 'ESME_RINVPASWD'],
    'bind_transceiver.system_type': [13, 'ESME_RINVSYSTYP'],
    'bind_transceiver.address_range': [41, 'ESME_RINVCMDLEN'],
    'submit_sm.service_type': [6, 'ESME_RINVSERTYP'],
    'data_sm.service_type': [6, 'ESME_RINVSERTYP'],
    'cancel_sm.service_type': [6, 'ESME_RINVSERTYP'],
    'submit_sm.source_addr': [21, 'ESME_RINVSRCADR'],
    'submit_sm.destination_addr': [21, 'ESME_RINVDSTADR'],
    'submit_multi.source_addr': [21, 'ESME_RINVSRCADR'],
    'deliver_sm.destination_addr': [21, 'ESME_RINVDSTADR'],
    'query_sm.source_addr': [21, 'ESME_RINVSRCADR'],
    'cancel_sm.destination_addr': [21, 'ESME_RINVDSTADR'],
    'replace_sm.source_addr': [21, 'ESME_RINVSRCADR'],
    'data_sm.source_addr': [65, 'ESME_RINVSRCADR'],
    'data_sm.destination_addr': [65, 'ESME_RINVDSTADR'],
    'alert_notification.source_addr': [65, 'ESME_RINVSRCADR'],
    'alert_notification.esme_addr': [65, 'ESME_RINVDSTADR'],
    'submit_sm.schedule_delivery_time': [17, 'ESME_RINVSCHED'],
    'replace_sm.validity_period': [17, 'ESME_RINVEXPIRY'],
    'query_sm_resp.final_date': [17, 'ESME_RINVCMDLEN'],
    'submit_sm_resp.message_id': [256, 'ESME_RINVMSGID'],
    'query_sm.message_id': [65, 'ESME_RINVMSGID'],
    'cancel_sm.message_id': [65, 'ESME_RINVMSGID'],
    'replace_sm.message_id': [65, 'ESME_RINVMSGID'],
    'data_sm_resp.message_id': [256, 'ESME_RINVMSGID'],
    'submit_sm.short_message': [254, 'ESME_RINVMSGLEN'],
    'replace_sm.short_message': [254, 'ESME_RINVMSGLEN'],
    'submit_multi.dest_address': [254, 'ESME_RINVNUMDESTS'],
    'submit_multi_resp.unsuccess_sme': [254, 'ESME_RINVNUMDESTS'],
  };
  for (const [key, [max, status]] of Object.entries(expect)) {
    const [command, field] = key.split('.') as [string, string];
    const f = COMMANDS.get(command)!.fields.find((x) => x.name === field);
    assert.ok(f, key);
    assert.deepEqual([f.max, statusName(f.status)], [max, status], key);
  }
  for (const d of COMMANDS.values()) {
    for (const f of d.fields) {
      // A carrier's message_id in a response is read up to 255 characters (stored whole; SMPP says 64).
      const carrierId = f.name === 'message_id' && ['submit_sm_resp', 'data_sm_resp', 'submit_multi_resp'].includes(d.name);
      if (f.kind === 'cstring') assert.ok(f.max >= 2 && f.max <= (carrierId ? 256 : 65), `${d.name}.${f.name}`);
      const time = ['schedule_delivery_time', 'validity_period', 'final_date'].includes(f.name);
      assert.deepEqual(f.exact, time ? [0, 16] : undefined, `${d.name}.${f.name}`);
      // A field without a rule of its own: a bad PDU layout, or a bad message length for octets.
      if (f.kind === 'u8') assert.deepEqual([f.max, f.status], [0xff, ESME_RINVCMDLEN], `${d.name}.${f.name}`);
      assert.equal(f.default, f.name === 'interface_version' ? 0x34 : f.kind === 'cstring' ? '' : 0, `${d.name}.${f.name}`);
    }
  }
});

test('TLVS holds every smpp TLV but the aliases, with its tag, kind and multiplicity', () => {
  const real = Object.entries(smpp.tlvs).filter(([name, t]) => t.tag === name);
  const aliases = Object.entries(smpp.tlvs)
    .filter(([name, t]) => t.tag !== name)
    .map(([n]) => n)
    .sort();
  assert.deepEqual(aliases, ['alert_on_msg_delivery', 'failed_broadcast_area_identifier']);
  assert.equal(TLVS.size, real.length);
  assert.equal(TLVS_BY_TAG.size, real.length);
  for (const [name, t] of real) {
    const d = TLVS.get(name);
    assert.ok(d, name);
    assert.deepEqual([d.tag, d.kind, d.multiple], [t.id, KIND_OF_TLV_TYPE.get(t.type), t.multiple === true], name);
    assert.equal(TLVS_BY_TAG.get(t.id), d, name);
    assert.deepEqual(smpp.tlvsById[t.id], t, name);
  }
});

test('Status and statusName match smpp.errors', () => {
  assert.deepEqual(Status, smpp.errors);
  assert.ok(Object.isFrozen(Status));
  for (const [name, code] of Object.entries(smpp.errors)) {
    assert.equal(statusByName(name), code);
    assert.equal(statusName(code), name);
  }
  assert.equal(statusByName('ESME_RNOSUCH'), undefined);
  assert.equal(statusByName('toString'), undefined);
  assert.equal(statusName(0xab), '0x000000ab');
  assert.equal(statusName(0x80000000), '0x80000000');
  assert.deepEqual([MIN_SEQUENCE, MAX_SEQUENCE], [1, 0x7fffffff]);
});

test('MESSAGE_PAYLOAD_TAG is message_payload, 0x0424 (SMPP 3.4 §5.3.2.32)', () => {
  assert.equal(MESSAGE_PAYLOAD_TAG, 0x0424);
  assert.equal(TLVS_BY_TAG.get(MESSAGE_PAYLOAD_TAG)?.name, 'message_payload');
});
