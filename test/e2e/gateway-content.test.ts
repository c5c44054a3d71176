// Message content end to end (issue 12), each test named after the defect of the open gateways it
// guards against: the gateway as a child process, carriers as SmppServers in this process that
// record what they are sent and answer each submit with a receipt, an account's transceiver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmppClient } from '../../src/smpp/client.js';
import type { Pdu, PduOf } from '../../src/smpp/pdu.js';
import { SmppServer } from '../../src/smpp/server.js';
import type { Session } from '../../src/smpp/session.js';
import { ucs2Text } from '../../src/text/codings.js';
import { gsmSeptets, gsmText } from '../../src/text/gsm.js';
import { concatElement, writeUdh } from '../../src/text/udh.js';
import { cli, startGateway, tempDir, type GatewayProcess } from '../helpers/gateway-process.js';
import { waitFor } from '../helpers/wait.js';

interface Carrier {
  id: string;
  got: Array<PduOf<'submit_sm'>>;
  session: Session | undefined;
}

/** A carrier that takes every submit_sm and sends its DELIVRD receipt right after the response. */
async function carrier(t: { after(fn: () => unknown): void }, id: string): Promise<Carrier & { port: number }> {
  const c: Carrier = { id, got: [], session: undefined };
  const server = new SmppServer({
    host: '127.0.0.1',
    port: 0,
    handlers: {
      bind: (_pdu, session) => {
        c.session = session;
        return { system_id: id };
      },
      request: (pdu: Pdu) => {
        if (pdu.command !== 'submit_sm') return {};
        c.got.push({ ...pdu, short_message: Buffer.from(pdu.short_message) });
        const messageId = `${id}-${c.got.length}`;
        setImmediate(() => {
          void c.session
            ?.request({
              command: 'deliver_sm',
              source_addr: pdu.destination_addr,
              destination_addr: pdu.source_addr,
              esm_class: 0x04,
              short_message: Buffer.from(`id:${messageId} sub:001 dlvrd:001 submit date:2612050000 done date:2612050000 stat:DELIVRD err:000 text:`),
            })
            .catch(() => undefined);
        });
        return { message_id: messageId };
      },
    },
  });
  const { port } = await server.listen();
  t.after(() => server.close(1_000));
  return Object.assign(c, { port });
}

/** An account's transceiver: submits with any fields, and the deliver_sm it is sent. */
async function esme(t: { after(fn: () => unknown): void }, gw: GatewayProcess, systemId: string) {
  const delivered: Array<PduOf<'deliver_sm'>> = [];
  const client = new SmppClient({
    host: '127.0.0.1',
    port: gw.smppPort,
    bind: { command: 'bind_transceiver', system_id: systemId, password: 'pw' },
    session: { enquireLinkMs: 0 },
    handlers: {
      request: (pdu: Pdu) => {
        if (pdu.command === 'deliver_sm') delivered.push({ ...pdu, short_message: Buffer.from(pdu.short_message) });
        return {};
      },
    },
  });
  client.start();
  t.after(() => client.close(1_000));
  const session = await client.whenBound();
  const submit = async (over: Partial<PduOf<'submit_sm'>>): Promise<string> => {
    const r = await session.request({ command: 'submit_sm', source_addr: 'SHOP', destination_addr: '447700900001', registered_delivery: 1, ...over });
    assert.equal(r.command_status, 0, `submit refused: 0x${r.command_status.toString(16)}`);
    return (r as PduOf<'submit_sm_resp'>).message_id;
  };
  return { delivered, submit, session };
}

async function gateway(t: { after(fn: () => unknown): void }) {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const db = `${dir}/gw.db`;
  const gsm = await carrier(t, 'gsm');
  const latin = await carrier(t, 'latin');
  cli(db, 'init');
  cli(db, 'account', 'add', 'acme', '--password', 'pw', '--window', '50');
  cli(db, 'account', 'add', 'latinco', '--password', 'pw', '--dc0', 'latin1');
  cli(db, 'connector', 'add', 'gsm', '--host', '127.0.0.1', '--port', String(gsm.port), '--system-id', 'gw', '--password', 'pw');
  cli(db, 'connector', 'add', 'latin', '--host', '127.0.0.1', '--port', String(latin.port), '--system-id', 'gw', '--password', 'pw', '--dc0', 'latin1');
  cli(db, 'route', 'add', 'mt', '--prefix', '44', '--connector', 'gsm');
  cli(db, 'route', 'add', 'mt', '--prefix', '33', '--connector', 'latin');
  cli(db, 'route', 'add', 'mt', '--prefix', '49', '--kind', 'roundrobin', '--connector', 'gsm,latin');
  const gw = await startGateway(db);
  t.after(() => gw.kill());
  await waitFor(() => gsm.session?.isBound === true && latin.session?.isBound === true, 'the gateway bound to both carriers', 10_000);
  return { gw, gsm, latin, db };
}

const receiptText = (pdu: PduOf<'deliver_sm'>) => gsmText(pdu.short_message).replace(/^.* text:/, '');

test('jasmin-750-213: @€{}[]~^|\\ through GSM reach a GSM carrier as sent, a Latin-1 carrier as what it reads, and come back in the receipt text', async (t) => {
  const { gw, gsm, latin } = await gateway(t);
  const acme = await esme(t, gw, 'acme');
  const text = '@€{}[]~^|\\';
  await acme.submit({ short_message: Buffer.from(gsmSeptets(text)!) });
  await acme.submit({ destination_addr: '33612345678', short_message: Buffer.from(gsmSeptets('@{}[]~^|\\ £')!) });
  await acme.submit({ destination_addr: '33612345679', short_message: Buffer.from(gsmSeptets(text)!) });
  await waitFor(() => gsm.got.length === 1 && latin.got.length === 2, 'the carriers got them', 10_000);
  assert.equal(gsmText(gsm.got[0]!.short_message), text, 'GSM carrier: the septets as sent');
  assert.deepEqual([latin.got[0]!.data_coding, latin.got[0]!.short_message.toString('latin1')], [0, '@{}[]~^|\\ £'], 'Latin-1 carrier: its own octets');
  assert.deepEqual([latin.got[1]!.data_coding, ucs2Text(latin.got[1]!.short_message)], [8, text], 'no € in Latin-1: UCS2, not "?"');
  await waitFor(() => acme.delivered.length === 3, 'three receipts', 10_000);
  assert.ok(
    acme.delivered.some((r) => receiptText(r) === text),
    'the receipt text in GSM, decoded the same',
  );
  // An account that writes Latin-1 to a GSM carrier: transcoded, extension characters as ESC pairs.
  const latinco = await esme(t, gw, 'latinco');
  await latinco.submit({ short_message: Buffer.from('Café {x} 5$', 'latin1') });
  await waitFor(() => gsm.got.length === 2, 'the GSM carrier got it', 10_000);
  assert.deepEqual([gsm.got[1]!.data_coding, gsmText(gsm.got[1]!.short_message)], [0, 'Café {x} 5$']);
  await waitFor(() => latinco.delivered.length === 1, 'its receipt', 10_000);
  assert.match(latinco.delivered[0]!.short_message.toString('latin1'), / text:Café \{x\} 5\$$/, 'its receipt text in Latin-1');
});

test('jasmin-663-1190: parts of one message on a round-robin route all go to one connector, every part keeps its id and its receipt', async (t) => {
  const { gw, gsm, latin } = await gateway(t);
  const acme = await esme(t, gw, 'acme');
  // Two messages of three parts each, UDH with an 8-bit reference, one after the other: a round
  // robin alone would alternate connectors from part to part.
  const ids: string[] = [];
  for (const ref of [0x11, 0x22]) {
    for (const seq of [1, 2, 3]) {
      const body = Buffer.concat([writeUdh([concatElement({ ref, total: 3, seq }, 8)]), Buffer.from(gsmSeptets(`msg ${ref} part ${seq}`)!)]);
      ids.push(await acme.submit({ destination_addr: '4915112345678', esm_class: 0x40, short_message: body }));
    }
  }
  await waitFor(() => gsm.got.length + latin.got.length === 6, 'six parts at the carriers', 10_000);
  for (const ref of [0x11, 0x22]) {
    const on = [gsm, latin].filter((c) => c.got.some((p) => p.short_message[3] === ref));
    assert.equal(on.length, 1, `the parts of message ${ref} on one connector`);
  }
  assert.equal(new Set(ids).size, 6, 'every part has its own id');
  await waitFor(() => acme.delivered.length === 6, 'six receipts', 10_000);
  const receiptIds = acme.delivered.map((r) => /id:(\S+)/.exec(r.short_message.toString('latin1'))![1]);
  assert.deepEqual([...receiptIds].sort(), [...ids].sort(), 'one receipt per part, each under its own id');
});
