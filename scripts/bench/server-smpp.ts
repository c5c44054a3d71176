// Loopback benchmark, SMSC side, the `smpp` package: smpp.createServer, answering every bind and
// every submit_sm (with a message_id), as its README shows. Started by the orchestrator with fork().
import type { AddressInfo } from 'node:net';
import { childChannel, cpuSince, type ToServer } from './ipc.js';
import { smpp, type SmppSessionObject } from './smpp-lib.js';

let handled = 0;
let cpuMark = process.cpuUsage();
let handledMark = 0;
let nextId = 0;
const sessions = new Set<SmppSessionObject>();

const server = smpp.createServer((session) => {
  sessions.add(session);
  session.on('close', () => sessions.delete(session));
  session.on('error', () => {}); // a reset at teardown is not the benchmark's business
  session.on('bind_transceiver', (pdu) => session.send(pdu.response({ system_id: 'bench' })));
  session.on('submit_sm', (pdu) => {
    handled++;
    session.send(pdu.response({ message_id: String(++nextId) }));
  });
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
});

const channel = childChannel<ToServer>((msg) => {
  switch (msg.type) {
    case 'mark':
      cpuMark = process.cpuUsage();
      handledMark = handled;
      channel.send({ type: 'marked' });
      break;
    case 'report':
      channel.send({ type: 'report', cpu: cpuSince(cpuMark), handled: handled - handledMark });
      break;
    case 'exit':
      server.close();
      for (const s of sessions) s.destroy();
      channel.sendThenExit({ type: 'closed' });
      break;
  }
});

server.listen(0, '127.0.0.1', () => {
  channel.send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
