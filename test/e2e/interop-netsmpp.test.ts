// Interop with an independent SMPP implementation: Net::SMPP (Perl, Debian libnet-smpp-perl).
//  1. Net::SMPP as the ESME (scripts/interop/netsmpp-client.pl) against our SmppServer.
//  2. Our SmppClient / Session as the ESME against Net::SMPP as the SMSC (netsmpp-server.pl).
// Each side reports what it decoded, so every field is checked on the side that received it.
//
// What Net::SMPP 1.19 does on the wire (learnt here; see also the comments in the .pl scripts):
// - binds carry interface_version 0x34 and no TLVs; bind_*_resp carry no sc_interface_version.
// - it sends mandatory fields in full, with its defaults (0 / '') for any not given.
// - TLVs are sent in the order given. By name the value is raw bytes; by numeric tag the width
//   is chosen from the value (signed: -128..126 → 1 byte, ..32766 → 2, else 4), so a small
//   user_message_reference goes out with length 1, which we refuse with ESME_RINVTLVLEN (0xC2).
// - its error responses (bind_*_resp, submit_sm_resp) still carry the body (system_id,
//   message_id ''); ours carry none. Each side decodes the other's.
// - decoding a TLV stores it under its name too, so a TLV named like a mandatory field
//   (message_state in query_sm_resp) would overwrite that field.
// - its synchronous API drops every PDU other than the awaited response (answering only
//   enquire_link), so the scripts use async => 1 and read with their own loop.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SmppClient } from '../../src/smpp/client.js';
import { SmppServer } from '../../src/smpp/server.js';
import { Session, type BindPdu, type ResponseInit } from '../../src/smpp/session.js';
import type { Pdu, PduInput, PduOf, Tlv } from '../../src/smpp/pdu.js';
import { SmppError } from '../../src/smpp/errors.js';
import { PerlRun, checkNetSmpp, inCi, killAll, type Line } from '../helpers/perl.js';

const ESME_RINVBNDSTS = 0x04;
const ESME_RINVCMDID = 0x03;
const ESME_RINVDSTADR = 0x0b;
const ESME_RINVPASWD = 0x0e;
const ESME_RINVSYSID = 0x0f;
const ESME_RINVTLVLEN = 0xc2;

// ---- prerequisites ---------------------------------------------------------------------------------

const perl = checkNetSmpp();
const missing = perl.ok ? undefined : `Net::SMPP is not available (${perl.reason}): install the Debian package libnet-smpp-perl`;
if (missing !== undefined && inCi()) {
  test('Net::SMPP interop prerequisites', () => {
    assert.fail(`${missing}. CI is set, so the interop tests may not be skipped (.ci/run installs it).`);
  });
}
const skip = missing ?? false;

// ---- helpers ---------------------------------------------------------------------------------------

/** A PDU as Net::SMPP decoded it (an `ev: recv` line). */
interface PerlPdu extends Line {
  cmd: string;
  cmd_id: number;
  status: number;
  seq: number;
  fields: Record<string, unknown>;
  tlvs: Record<string, string>;
  /** The raw body, hex. */
  body: string;
  conn?: number;
}

interface PerlSent extends Line {
  cmd: string;
  seq: number;
  args: Record<string, unknown>;
}

const recvs = (lines: Line[]): PerlPdu[] => lines.filter((l): l is PerlPdu => l.ev === 'recv');
const sents = (lines: Line[]): PerlSent[] => lines.filter((l): l is PerlSent => l.ev === 'sent');

function recvOf(lines: Line[], cmd: string, seq: number): PerlPdu {
  const found = recvs(lines).find((l) => l.cmd === cmd && l.seq === seq);
  assert.ok(found, `Net::SMPP received no ${cmd} #${seq}; lines:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  return found;
}

const hex = (b: Uint8Array | string) => (typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b)).toString('hex');
const cstr = (s: string) => hex(`${s}\0`);

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A decoded PDU made independent of the socket buffer it was read from. */
function copyPdu<T extends Pdu>(p: T): T {
  const c: Record<string, unknown> = { ...p };
  for (const [k, v] of Object.entries(c)) if (Buffer.isBuffer(v)) c[k] = Buffer.from(v);
  if (p.tlvs) c.tlvs = p.tlvs.map((t) => ({ tag: t.tag, value: Buffer.from(t.value) }));
  return c as T;
}

/** Buffers as hex, for comparing whole PDUs. */
function view(p: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (Buffer.isBuffer(v)) out[k] = v.toString('hex');
    else if (k === 'tlvs' && Array.isArray(v)) out[k] = (v as Tlv[]).map((t) => ({ tag: t.tag, value: t.value.toString('hex') }));
    else out[k] = v;
  }
  return out;
}

/** The short-message body with every field at its default. */
const SM_DEFAULTS = {
  service_type: '',
  source_addr_ton: 0,
  source_addr_npi: 0,
  source_addr: '',
  dest_addr_ton: 0,
  dest_addr_npi: 0,
  destination_addr: '',
  esm_class: 0,
  protocol_id: 0,
  priority_flag: 0,
  schedule_delivery_time: '',
  validity_period: '',
  registered_delivery: 0,
  replace_if_present_flag: 0,
  data_coding: 0,
  sm_default_msg_id: 0,
};

type SmFields = Partial<typeof SM_DEFAULTS> & { short_message: Buffer; tlvs?: Tlv[] };

/** What Net::SMPP reports for a submit_sm/deliver_sm body we sent. */
function perlSmFields(m: SmFields & { command?: string }): Record<string, unknown> {
  const { short_message, tlvs: _tlvs, command: _command, ...rest } = m;
  return { ...SM_DEFAULTS, ...rest, short_message_hex: short_message.toString('hex') };
}

function perlTlvs(tlvs: Tlv[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tlvs ?? []) out[`0x${t.tag.toString(16).padStart(4, '0')}`] = t.value.toString('hex');
  return out;
}

const tlv = (tag: number, value: Buffer | number[] | string): Tlv => ({
  tag,
  value: Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value),
});

// ---- 1. Net::SMPP ESME → our SmppServer ----------------------------------------------------------------

const SYSTEM_ID = 'netsmpp';
const PASSWORD = 'pw-1234';

/** The submit_sm that netsmpp-client.pl sends in trx mode (its @submits), as we must decode them. */
const PERL_SUBMITS: Array<SmFields | { rejected: number }> = [
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900002',
    registered_delivery: 0x01,
    short_message: Buffer.from('Hello from Net::SMPP'),
  },
  {
    service_type: 'CMT',
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'Interop',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900003',
    data_coding: 0x03,
    short_message: Buffer.from('Caf\xe9 \xa3', 'latin1'),
    tlvs: [tlv(0x0204, [0xbe, 0xef]), tlv(0x020b, [0x0b, 0x84]), tlv(0x1501, [0x00, 0x01, 0x11, 0x70])],
  },
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900004',
    esm_class: 0x40,
    protocol_id: 0x7f,
    priority_flag: 3,
    validity_period: '000001000000000R',
    registered_delivery: 0x11,
    data_coding: 0xf6,
    short_message: Buffer.from([0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x01, 0x80, 0xfe, 0xff, 0x00, 0x7f, 0x00]),
  },
  {
    source_addr_ton: 2,
    source_addr_npi: 8,
    source_addr: '7700900001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900005',
    data_coding: 0x08,
    short_message: Buffer.from([0x00, 0x48, 0x00, 0x69, 0x00, 0x20, 0xd8, 0x3d, 0xde, 0x00]),
  },
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900001',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900006',
    data_coding: 0x04,
    short_message: Buffer.alloc(0),
    tlvs: [tlv(0x0424, 'payload\x00\xff\x01')],
  },
  // user_message_reference => 7 by numeric tag: Net::SMPP sends length 1; the codec refuses it.
  { rejected: ESME_RINVTLVLEN },
];

/** The deliver_sm our server sends the Perl transceiver once it has seen query_sm. */
function ourDeliveries(receiptFor: string): Array<Omit<PduInput<'deliver_sm'>, 'sequence_number'> & SmFields> {
  return [
    {
      command: 'deliver_sm',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900002',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900001',
      esm_class: 0x04,
      short_message: Buffer.from(`id:${receiptFor} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello`),
      tlvs: [tlv(0x001e, `${receiptFor}\0`), tlv(0x0427, [0x02])],
    },
    {
      command: 'deliver_sm',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900009',
      dest_addr_ton: 0,
      dest_addr_npi: 0,
      destination_addr: '60000',
      esm_class: 0x40,
      priority_flag: 1,
      data_coding: 0x04,
      short_message: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0xff, 0x80, 0x7f, 0x00]),
    },
  ];
}

describe('interop: Net::SMPP ESME → our SmppServer', { skip }, () => {
  let server: SmppServer;
  let port = 0;
  let counter = 0;
  // What our side saw, reset before each test.
  let binds: Array<{ session: Session; pdu: BindPdu; status: number }> = [];
  let requests: Array<{ session: Session; pdu: Pdu }> = [];
  let issued = new Map<number, string>(); // submit_sm sequence_number → message_id we gave
  let closes = new Map<Session, string>();
  let delivered: Promise<Array<{ sent: SmFields; resp: PduOf<'deliver_sm_resp'> }>> | undefined;

  before(async () => {
    server = new SmppServer({
      host: '127.0.0.1',
      port: 0,
      session: { enquireLinkMs: 0, bindTimeoutMs: 10_000, responseTimeoutMs: 5_000 },
      handlers: {
        bind(pdu, session): ResponseInit {
          const status = pdu.system_id !== SYSTEM_ID ? ESME_RINVSYSID : pdu.password !== PASSWORD ? ESME_RINVPASWD : 0;
          binds.push({ session, pdu: copyPdu(pdu), status });
          return status === 0 ? { system_id: 'smppgw' } : { command_status: status };
        },
        request(pdu, session): ResponseInit {
          requests.push({ session, pdu: copyPdu(pdu) });
          if (pdu.command === 'submit_sm') {
            const id = `gw-${++counter}`;
            issued.set(pdu.sequence_number, id);
            return { message_id: id };
          }
          if (pdu.command === 'query_sm') {
            // Once the answer is on its way, deliver to the transceiver: a receipt, then an MO.
            const receiptFor = pdu.message_id;
            setImmediate(() => {
              delivered = Promise.all(ourDeliveries(receiptFor).map(async (d) => ({ sent: d, resp: await session.request(d) })));
            });
            return { message_id: pdu.message_id, final_date: '', message_state: 2, error_code: 0 };
          }
          throw new SmppError(ESME_RINVCMDID);
        },
        close(session, reason) {
          closes.set(session, reason);
        },
      },
    });
    port = (await server.listen()).port;
  });

  beforeEach(() => {
    binds = [];
    requests = [];
    issued = new Map();
    closes = new Map();
    delivered = undefined;
  });

  afterEach(() => killAll());

  after(async () => {
    await killAll();
    await server?.close(2_000);
  });

  const client = (mode: string, password = PASSWORD, ...more: string[]) =>
    new PerlRun('netsmpp-client.pl', ['127.0.0.1', String(port), mode, SYSTEM_ID, password, ...more], 10_000);

  test('transceiver: bind, six submit_sm, enquire_link, query_sm, two deliver_sm from us, unbind', async () => {
    const run = client('trx');
    const { lines } = await run.success();

    // Net::SMPP numbers its requests 1, 2, 3, … and each got the response with its number.
    const sent = sents(lines);
    assert.deepEqual(
      sent.map((s) => `${s.cmd}#${s.seq}`),
      [
        'bind_transceiver#1',
        'submit_sm#2',
        'submit_sm#3',
        'submit_sm#4',
        'submit_sm#5',
        'submit_sm#6',
        'submit_sm#7',
        'enquire_link#8',
        'query_sm#9',
        'unbind#10',
      ],
    );

    // bind: decoded exactly as sent; answered OK with our system_id and nothing else in the body.
    assert.equal(binds.length, 1);
    const bind = binds[0]!;
    assert.deepEqual(view(bind.pdu), {
      command: 'bind_transceiver',
      command_status: 0,
      sequence_number: 1,
      system_id: SYSTEM_ID,
      password: PASSWORD,
      system_type: 'interop',
      interface_version: 0x34,
      addr_ton: 1,
      addr_npi: 1,
      address_range: '',
      tlvs: undefined,
    });
    const bindResp = recvOf(lines, 'bind_transceiver_resp', 1);
    assert.equal(bindResp.status, 0);
    assert.equal(bindResp.fields.system_id, 'smppgw');
    assert.equal(bindResp.body, cstr('smppgw'), 'no TLV (sc_interface_version) after system_id');
    const session = bind.session;

    // submit_sm: our decoder saw exactly what Net::SMPP sent; Net::SMPP got our message_ids.
    const submits = requests.filter((r) => r.pdu.command === 'submit_sm');
    assert.equal(submits.length, 5, 'the malformed-TLV submit never reaches the handler');
    let next = 0;
    PERL_SUBMITS.forEach((exp, i) => {
      const seq = 2 + i;
      const resp = recvOf(lines, 'submit_sm_resp', seq);
      if ('rejected' in exp) {
        assert.equal(resp.status, exp.rejected, `submit #${seq}: status`);
        assert.equal(resp.body, '', `submit #${seq}: our error response has no body`);
        assert.ok(!issued.has(seq));
        return;
      }
      const got = submits[next++]!;
      assert.equal(got.session, session);
      const { short_message, tlvs, ...fields } = exp;
      assert.deepEqual(
        view(got.pdu),
        {
          command: 'submit_sm',
          command_status: 0,
          sequence_number: seq,
          ...SM_DEFAULTS,
          ...fields,
          short_message: short_message.toString('hex'),
          tlvs: tlvs?.map((t) => ({ tag: t.tag, value: t.value.toString('hex') })),
        },
        `submit #${seq} as we decoded it`,
      );
      const id = issued.get(seq);
      assert.ok(id);
      assert.equal(resp.status, 0, `submit #${seq}: status`);
      assert.equal(resp.fields.message_id, id);
      assert.equal(resp.body, cstr(id), `submit #${seq}: body is message_id and nothing else`);
    });

    // enquire_link: empty response, same sequence number.
    const el = recvOf(lines, 'enquire_link_resp', 8);
    assert.equal(el.status, 0);
    assert.equal(el.body, '');

    // query_sm: decoded, and Net::SMPP decoded our query_sm_resp.
    const query = requests.find((r) => r.pdu.command === 'query_sm');
    assert.ok(query);
    const firstId = issued.get(2)!;
    assert.deepEqual(view(query.pdu), {
      command: 'query_sm',
      command_status: 0,
      sequence_number: 9,
      message_id: firstId,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900001',
      tlvs: undefined,
    });
    const qr = recvOf(lines, 'query_sm_resp', 9);
    assert.equal(qr.status, 0);
    assert.deepEqual(qr.fields, { message_id: firstId, final_date: '', message_state: 2, error_code: 0 });
    assert.equal(qr.body, `${cstr(firstId)}000200`);

    // deliver_sm from us: Net::SMPP decoded every field and answered deliver_sm_resp (message_id '').
    assert.ok(delivered, 'our server sent deliver_sm');
    const deliveries = await within(delivered, 5_000, 'deliver_sm responses');
    assert.equal(deliveries.length, 2);
    for (const { sent: d, resp } of deliveries) {
      assert.equal(resp.command, 'deliver_sm_resp');
      assert.equal(resp.command_status, 0);
      assert.equal(resp.message_id, '');
      const seen = recvOf(lines, 'deliver_sm', resp.sequence_number);
      assert.equal(seen.status, 0);
      assert.deepEqual(seen.fields, perlSmFields(d));
      assert.deepEqual(seen.tlvs, perlTlvs(d.tlvs));
      assert.ok(lines.some((l) => l.ev === 'answered' && l.cmd === 'deliver_sm_resp' && l.seq === resp.sequence_number));
    }

    // unbind: answered, then our side ended the connection (Net::SMPP saw EOF) and closed.
    const ub = recvOf(lines, 'unbind_resp', 10);
    assert.equal(ub.status, 0);
    assert.equal(ub.body, '');
    const evs = lines.map((l) => l.ev);
    assert.ok(evs.indexOf('eof') > lines.indexOf(ub), 'EOF after unbind_resp');
    await within(session.whenClosed(), 3_000, 'our session closing');
    assert.equal(session.state, 'closed');
    assert.equal(closes.get(session), 'peer unbound');
    assert.equal(lines.filter((l) => l.ev === 'recv' && l.cmd === 'generic_nack').length, 0);
  });

  test('transmitter: bind_transmitter, submit_sm, unbind', async () => {
    const { lines } = await client('tx').success();
    assert.equal(binds.length, 1);
    assert.deepEqual(view(binds[0]!.pdu), {
      command: 'bind_transmitter',
      command_status: 0,
      sequence_number: 1,
      system_id: SYSTEM_ID,
      password: PASSWORD,
      system_type: '',
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '',
      tlvs: undefined,
    });
    const br = recvOf(lines, 'bind_transmitter_resp', 1);
    assert.equal(br.status, 0);
    assert.equal(br.fields.system_id, 'smppgw');

    assert.equal(requests.length, 1);
    assert.deepEqual(view(requests[0]!.pdu), {
      command: 'submit_sm',
      command_status: 0,
      sequence_number: 2,
      ...SM_DEFAULTS,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900099',
      short_message: hex('transmitter'),
      tlvs: undefined,
    });
    const sr = recvOf(lines, 'submit_sm_resp', 2);
    assert.equal(sr.status, 0);
    assert.equal(sr.fields.message_id, issued.get(2));

    assert.equal(recvOf(lines, 'unbind_resp', 3).status, 0);
    assert.ok(lines.some((l) => l.ev === 'eof'));
    const session = binds[0]!.session;
    await within(session.whenClosed(), 3_000, 'our session closing');
    assert.equal(closes.get(session), 'peer unbound');
  });

  test('wrong password: ESME_RINVPASWD as Net::SMPP sees it; unbound submit refused; rebind works', async () => {
    const { lines } = await client('badpass', 'wrong', PASSWORD).success();
    assert.deepEqual(
      sents(lines).map((s) => `${s.cmd}#${s.seq}`),
      ['enquire_link#1', 'bind_transceiver#2', 'submit_sm#3', 'bind_transceiver#4', 'unbind#5'],
    );
    // enquire_link before any bind is answered.
    assert.equal(recvOf(lines, 'enquire_link_resp', 1).status, 0);
    // The refusal: status 0x0E, and (our style) no body; Net::SMPP decodes system_id as ''.
    const refused = recvOf(lines, 'bind_transceiver_resp', 2);
    assert.equal(refused.status, ESME_RINVPASWD);
    assert.equal(refused.body, '');
    assert.equal(refused.fields.system_id, '');
    assert.deepEqual(
      binds.map((b) => [b.pdu.password, b.status]),
      [
        ['wrong', ESME_RINVPASWD],
        [PASSWORD, 0],
      ],
    );
    // submit_sm while not bound: ESME_RINVBNDSTS, the handler never sees it.
    const unbound = recvOf(lines, 'submit_sm_resp', 3);
    assert.equal(unbound.status, ESME_RINVBNDSTS);
    assert.equal(unbound.body, '');
    assert.equal(requests.length, 0);
    // The same connection binds after the refusal, and unbinds cleanly.
    assert.equal(binds[0]!.session, binds[1]!.session);
    assert.equal(recvOf(lines, 'bind_transceiver_resp', 4).status, 0);
    assert.equal(recvOf(lines, 'unbind_resp', 5).status, 0);
    await within(binds[1]!.session.whenClosed(), 3_000, 'our session closing');
    assert.equal(closes.get(binds[1]!.session), 'peer unbound');
  });

  test('wrong system_id is refused with ESME_RINVSYSID', async () => {
    const run = new PerlRun('netsmpp-client.pl', ['127.0.0.1', String(port), 'badpass', 'nobody', PASSWORD], 10_000);
    const { lines } = await run.success();
    assert.equal(recvOf(lines, 'bind_transceiver_resp', 2).status, ESME_RINVSYSID);
  });

  test('receiver: bind_receiver, then our server unbinds it; Net::SMPP answers unbind_resp', async () => {
    const run = client('rx');
    await run.waitFor((l) => l.ev === 'recv' && l.cmd === 'bind_receiver_resp', 'bind_receiver_resp');
    assert.equal(binds.length, 1);
    const { session, pdu } = binds[0]!;
    assert.equal(pdu.command, 'bind_receiver');
    assert.equal(pdu.system_type, 'rx');
    assert.equal(pdu.address_range, '^4477');
    assert.equal(session.state, 'bound_rx');
    await within(session.close('test: server unbinds'), 5_000, 'our unbind');
    const { lines } = await run.success();
    const ub = recvs(lines).find((l) => l.cmd === 'unbind');
    assert.ok(ub);
    assert.equal(ub.body, '');
    assert.ok(lines.some((l) => l.ev === 'answered' && l.cmd === 'unbind_resp' && l.seq === ub.seq));
    assert.ok(lines.some((l) => l.ev === 'eof'));
    assert.equal(session.state, 'closed');
    assert.equal(closes.get(session), 'test: server unbinds');
  });
});

// ---- 2. our SmppClient → Net::SMPP SMSC -----------------------------------------------------------

/** The deliver_sm netsmpp-server.pl sends after a transceiver bind (its @DELIVERIES). */
const PERL_DELIVERIES: SmFields[] = [
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900002',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900001',
    esm_class: 0x04,
    short_message: Buffer.from('id:perl-1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello'),
    tlvs: [tlv(0x001e, 'perl-1\0'), tlv(0x0427, [0x02])],
  },
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900009',
    destination_addr: '60000',
    priority_flag: 1,
    data_coding: 0x08,
    short_message: Buffer.from([0x00, 0x52, 0x00, 0x65, 0x00, 0x3a, 0x00, 0x20, 0x20, 0xac, 0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00]),
  },
];

/** What our client submits to the Perl SMSC. */
const OUR_SUBMITS: Array<SmFields & { expect: { status: number; message_id: string } }> = [
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900010',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900011',
    registered_delivery: 1,
    short_message: Buffer.from('Hello from smppgw'),
    expect: { status: 0, message_id: 'perl-1' },
  },
  {
    service_type: 'CMT',
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'SmppGW',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900012',
    data_coding: 0x03,
    short_message: Buffer.from('Gr\xfc\xdfe \xa3', 'latin1'),
    tlvs: [tlv(0x0204, [0x01, 0x02]), tlv(0x020b, [0x0b, 0x84])],
    expect: { status: 0, message_id: 'perl-2' },
  },
  {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: '447700900010',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900013',
    esm_class: 0x40,
    protocol_id: 0x7f,
    priority_flag: 2,
    validity_period: '000001000000000R',
    registered_delivery: 0x11,
    data_coding: 0xf6,
    short_message: Buffer.from([0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0xff, 0x80, 0x00, 0x01]),
    tlvs: [tlv(0x0424, [0x00, 0xff, 0x00])],
    expect: { status: 0, message_id: 'perl-3' },
  },
  // The Perl SMSC refuses destination "000" with ESME_RINVDSTADR, body and all.
  { destination_addr: '000', short_message: Buffer.from('refuse me'), expect: { status: ESME_RINVDSTADR, message_id: '' } },
];

describe('interop: our SmppClient → Net::SMPP SMSC', { skip }, () => {
  const clients: SmppClient[] = [];
  const sockets: net.Socket[] = [];

  const perlServer = async (...opts: string[]) => {
    const run = new PerlRun('netsmpp-server.pl', ['127.0.0.1', '0', 'system_id=smppgw', 'password=secret', ...opts], 12_000);
    const listening = await run.waitFor((l) => l.ev === 'listening', 'the listening line');
    return { run, port: listening.port as number };
  };

  const newClient = (port: number, got: Pdu[]) => {
    const c = new SmppClient({
      host: '127.0.0.1',
      port,
      bind: { command: 'bind_transceiver', system_id: 'smppgw', password: 'secret' },
      session: { enquireLinkMs: 0, responseTimeoutMs: 5_000 },
      backoff: { initialMs: 5_000 },
      handlers: {
        request(pdu) {
          got.push(copyPdu(pdu));
          return {};
        },
      },
    });
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close(1_000)));
    for (const s of sockets.splice(0)) s.destroy();
    await killAll();
  });

  test('a wrong password: Net::SMPP answers ESME_RINVPASWD (with a body), our bind rejects', async () => {
    const { run, port } = await perlServer('conns=1');
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    await within(new Promise((r) => socket.once('connect', r)), 5_000, 'connect');
    const session = new Session(socket, { role: 'esme', enquireLinkMs: 0, responseTimeoutMs: 5_000 });
    await assert.rejects(session.bind('bind_transceiver', { system_id: 'smppgw', password: 'wrong' }), (err: unknown) => {
      assert.ok(err instanceof SmppError);
      assert.equal(err.status, ESME_RINVPASWD);
      return true;
    });
    assert.equal(session.state, 'open');
    session.destroy('test done');
    const { lines } = await run.success();
    const bind = recvs(lines).find((l) => l.cmd === 'bind_transceiver');
    assert.ok(bind);
    assert.deepEqual(bind.fields, {
      system_id: 'smppgw',
      password: 'wrong',
      system_type: '',
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '',
    });
    assert.deepEqual(bind.tlvs, {});
    assert.ok(lines.some((l) => l.ev === 'answered' && l.cmd === 'bind_transceiver_resp' && l.status === ESME_RINVPASWD));
    assert.ok(lines.some((l) => l.ev === 'conn_end' && l.reason === 'closed by client'));
  });

  test('transceiver: bind, submit_sm ×4, enquire_link, query_sm, cancel_sm (nacked), two deliver_sm, unbind', async () => {
    const { run, port } = await perlServer('conns=1', 'deliver_delay_ms=200');
    const got: Pdu[] = [];
    const client = newClient(port, got);
    client.start();
    const session = await within(client.whenBound(), 5_000, 'bind');
    assert.equal(session.state, 'bound_trx');

    // Submits in parallel (the window is 10): each response matches its request.
    const resps = await within(
      Promise.all(OUR_SUBMITS.map(({ expect: _e, ...m }) => session.request({ command: 'submit_sm', ...m }))),
      5_000,
      'submit_sm responses',
    );
    const el = await within(session.request({ command: 'enquire_link' }), 5_000, 'enquire_link_resp');
    const qr = await within(
      session.request({ command: 'query_sm', message_id: 'perl-1', source_addr_ton: 1, source_addr_npi: 1, source_addr: '447700900010' }),
      5_000,
      'query_sm_resp',
    );
    // Net::SMPP's server side has no cancel_sm here: generic_nack ESME_RINVCMDID rejects the request.
    await assert.rejects(
      within(session.request({ command: 'cancel_sm', message_id: 'perl-1', destination_addr: '447700900011' }), 5_000, 'cancel_sm'),
      (err: unknown) => {
        assert.ok(err instanceof SmppError);
        assert.equal(err.status, ESME_RINVCMDID);
        return true;
      },
    );
    // The Perl SMSC's two deliver_sm and its enquire_link, answered by us.
    await run.waitFor((l) => l.ev === 'recv' && l.cmd === 'deliver_sm_resp' && l.seq === 2, 'deliver_sm_resp #2');
    await run.waitFor((l) => l.ev === 'recv' && l.cmd === 'enquire_link_resp', 'enquire_link_resp');
    await within(client.close(3_000), 5_000, 'client close');
    const { lines } = await run.success();

    // bind as Net::SMPP decoded it.
    const bind = recvOf(lines, 'bind_transceiver', 1);
    assert.deepEqual(bind.fields, {
      system_id: 'smppgw',
      password: 'secret',
      system_type: '',
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: '',
    });
    assert.deepEqual(bind.tlvs, {});

    // submit_sm: Net::SMPP decoded every field we sent; we decoded its responses (also the error one).
    OUR_SUBMITS.forEach(({ expect, ...m }, i) => {
      const resp = resps[i]!;
      assert.equal(resp.command, 'submit_sm_resp');
      assert.equal(resp.command_status, expect.status, `submit ${i + 1}: status`);
      assert.equal(resp.message_id, expect.message_id, `submit ${i + 1}: message_id`);
      const seen = recvOf(lines, 'submit_sm', resp.sequence_number);
      assert.deepEqual(seen.fields, perlSmFields(m), `submit ${i + 1} as Net::SMPP decoded it`);
      assert.deepEqual(seen.tlvs, perlTlvs(m.tlvs), `submit ${i + 1}: TLVs`);
      assert.ok(lines.some((l) => l.ev === 'answered' && l.cmd === 'submit_sm_resp' && l.seq === resp.sequence_number && l.status === expect.status));
    });

    assert.equal(el.command, 'enquire_link_resp');
    assert.equal(el.command_status, 0);
    assert.equal(recvOf(lines, 'enquire_link', el.sequence_number).body, '');
    assert.deepEqual(
      { ...qr },
      {
        command: 'query_sm_resp',
        command_status: 0,
        sequence_number: qr.sequence_number,
        message_id: 'perl-1',
        final_date: '',
        message_state: 2,
        error_code: 0,
        tlvs: undefined,
      },
    );
    assert.deepEqual(recvOf(lines, 'query_sm', qr.sequence_number).fields, {
      message_id: 'perl-1',
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900010',
    });
    assert.ok(recvs(lines).some((l) => l.cmd === 'cancel_sm'));

    // deliver_sm from Net::SMPP: decoded field for field, TLVs kept raw, answered OK (message_id '').
    assert.deepEqual(
      got.map((p) => view(p)),
      PERL_DELIVERIES.map(({ short_message, tlvs, ...f }, i) => ({
        command: 'deliver_sm',
        command_status: 0,
        sequence_number: i + 1,
        ...SM_DEFAULTS,
        ...f,
        short_message: short_message.toString('hex'),
        tlvs: tlvs?.map((t) => ({ tag: t.tag, value: t.value.toString('hex') })),
      })),
    );
    for (const seq of [1, 2]) {
      const r = recvOf(lines, 'deliver_sm_resp', seq);
      assert.equal(r.status, 0, `deliver_sm #${seq}: our response status`);
      assert.equal(r.body, '00', 'deliver_sm_resp body: an empty message_id');
    }
    assert.equal(recvOf(lines, 'enquire_link_resp', 3).status, 0);

    // unbind: ours, answered, and the connection ended with nothing outstanding on either side.
    assert.ok(recvs(lines).some((l) => l.cmd === 'unbind'));
    const end = lines.find((l) => l.ev === 'conn_end');
    assert.deepEqual(end && { reason: end.reason, outstanding: end.outstanding }, { reason: 'closed after unbind', outstanding: [] });
    assert.equal(session.state, 'closed');
    assert.equal(client.session, undefined);
  });

  test('deliver_sm sent right after bind_transceiver_resp, back to back, reaches the handler', async () => {
    const { run, port } = await perlServer('conns=1', 'deliver_delay_ms=0');
    const got: Pdu[] = [];
    const client = newClient(port, got);
    client.start();
    await within(client.whenBound(), 5_000, 'bind');
    await run.waitFor((l) => l.ev === 'recv' && l.cmd === 'enquire_link_resp', 'enquire_link_resp');
    await within(client.close(3_000), 5_000, 'client close');
    const { lines } = await run.success();
    const statuses = recvs(lines)
      .filter((l) => l.cmd === 'deliver_sm_resp')
      .map((l) => l.status);
    assert.deepEqual(statuses, [0, 0], 'deliver_sm_resp statuses');
    assert.equal(got.length, 2);
  });
});
