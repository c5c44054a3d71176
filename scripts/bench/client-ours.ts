// Loopback benchmark, ESME side, our implementation: one SmppClient per bind, each with a session
// window of `window`; `window` async senders per bind each await `session.request()` in turn, so
// exactly `window` requests are in flight per bind. The binds share one message counter.
import { SmppClient } from '../../src/smpp/client.js';
import type { Session } from '../../src/smpp/session.js';
import { LONG_MESSAGE, MT, SHORT_MESSAGE } from './common.js';
import { childChannel, cpuSince, type ClientStart, type ToClient } from './ipc.js';

let config: ClientStart;
let clients: SmppClient[] = [];
let sessions: Session[] = [];
let limitTimer: NodeJS.Timeout | undefined;

interface Run {
  left: number;
  done: number;
  errors: number;
  maxInFlight: number;
  perBind: number[];
}

async function sender(s: Session, bind: number, run: Run, inFlight: number[], msg: Buffer): Promise<void> {
  while (run.left > 0) {
    run.left--;
    const n = ++inFlight[bind]!;
    if (n > run.maxInFlight) run.maxInFlight = n;
    const resp = await s.request({
      command: 'submit_sm',
      source_addr: MT.source_addr,
      destination_addr: MT.destination_addr,
      registered_delivery: MT.registered_delivery,
      data_coding: MT.data_coding,
      short_message: msg,
    });
    inFlight[bind]!--;
    if (resp.command_status !== 0 || resp.message_id === '') run.errors++;
    run.done++;
    run.perBind[bind]!++;
  }
}

async function send(count: number): Promise<Run> {
  const run: Run = { left: count, done: 0, errors: 0, maxInFlight: 0, perBind: sessions.map(() => 0) };
  const inFlight = sessions.map(() => 0);
  const msg = config.messageBytes > SHORT_MESSAGE.length ? LONG_MESSAGE : SHORT_MESSAGE;
  const all: Promise<void>[] = [];
  sessions.forEach((s, b) => {
    for (let i = 0; i < config.window; i++) all.push(sender(s, b, run, inFlight, msg));
  });
  await Promise.all(all);
  if (run.done !== count) throw new Error(`${run.done} of ${count} answered`);
  return run;
}

const channel = childChannel<ToClient>(async (msg) => {
  switch (msg.type) {
    case 'start': {
      config = msg;
      limitTimer = setTimeout(() => {
        throw new Error(`client did not finish within ${config.limitMs} ms`);
      }, config.limitMs);
      clients = Array.from(
        { length: config.binds },
        () =>
          new SmppClient({
            host: '127.0.0.1',
            port: config.port,
            bind: { command: 'bind_transceiver', system_id: 'bench', password: 'bench' },
            session: { window: config.window },
          }),
      );
      for (const c of clients) c.start();
      sessions = await Promise.all(clients.map((c) => c.whenBound()));
      await send(config.warmup);
      channel.send({ type: 'warmed' });
      break;
    }
    case 'go': {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const run = await send(config.count);
      const elapsedMs = performance.now() - t0;
      channel.send({ type: 'done', count: run.done, elapsedMs, cpu: cpuSince(cpu0), errors: run.errors, maxInFlight: run.maxInFlight, perBind: run.perBind });
      break;
    }
    case 'exit':
      clearTimeout(limitTimer);
      await Promise.all(clients.map((c) => c.close(2_000)));
      channel.sendThenExit({ type: 'closed' });
      break;
  }
});
