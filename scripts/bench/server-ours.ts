// Loopback benchmark, SMSC side, our implementation: SmppServer accepting every bind and answering
// every submit_sm with a message_id. Started by the orchestrator (loopback.ts) with fork().
import { SmppServer } from '../../src/smpp/server.js';
import { childChannel, cpuSince, type ToServer } from './ipc.js';

let handled = 0;
let cpuMark = process.cpuUsage();
let handledMark = 0;
let nextId = 0;

const server = new SmppServer({
  host: '127.0.0.1',
  port: 0,
  handlers: {
    bind: () => ({ command_status: 0, system_id: 'bench' }),
    request: (pdu) => {
      if (pdu.command !== 'submit_sm') return {};
      handled++;
      return { message_id: String(++nextId) };
    },
  },
});

const channel = childChannel<ToServer>(async (msg) => {
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
      await server.close(2_000);
      channel.sendThenExit({ type: 'closed' });
      break;
  }
});

const addr = await server.listen();
channel.send({ type: 'listening', port: addr.port });
