// Loopback benchmark, ESME side, the `smpp` package: one smpp.connect() session per bind, bound
// with bind_transceiver. smpp has no window, so this client keeps `window` submit_sm in flight per
// bind itself: it sends `window` at first and one more on each response. The binds share one
// message counter.
import { LONG_MESSAGE, MT, SHORT_MESSAGE } from './common.js';
import { childChannel, cpuSince, type ClientStart, type ToClient } from './ipc.js';
import { smpp, type SmppPduObject, type SmppSessionObject } from './smpp-lib.js';

let config: ClientStart;
let sessions: SmppSessionObject[] = [];
let limitTimer: NodeJS.Timeout | undefined;

function connectAndBind(port: number): Promise<SmppSessionObject> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
    session.on('error', (err: Error) => reject(err));
    session.bind_transceiver({ system_id: 'bench', password: 'bench' }, (pdu) => {
      if (pdu.command_status !== 0) reject(new Error(`bind refused: status ${pdu.command_status}`));
      else resolve(session);
    });
  });
}

interface Run {
  left: number;
  done: number;
  errors: number;
  maxInFlight: number;
  perBind: number[];
}

function send(count: number): Promise<Run> {
  const run: Run = { left: count, done: 0, errors: 0, maxInFlight: 0, perBind: sessions.map(() => 0) };
  const inFlight = sessions.map(() => 0);
  const msg = config.messageBytes > SHORT_MESSAGE.length ? LONG_MESSAGE : SHORT_MESSAGE;
  return new Promise((resolve) => {
    if (count === 0) return resolve(run);
    const pump = (b: number): void => {
      const s = sessions[b]!;
      while (inFlight[b]! < config.window && run.left > 0) {
        run.left--;
        const n = ++inFlight[b]!;
        if (n > run.maxInFlight) run.maxInFlight = n;
        s.submit_sm(
          {
            source_addr: MT.source_addr,
            destination_addr: MT.destination_addr,
            registered_delivery: MT.registered_delivery,
            data_coding: MT.data_coding,
            short_message: msg,
          },
          (resp: SmppPduObject) => {
            inFlight[b]!--;
            if (resp.command !== 'submit_sm_resp' || resp.command_status !== 0 || !resp.message_id) run.errors++;
            run.done++;
            run.perBind[b]!++;
            if (run.done === count) resolve(run);
            else pump(b);
          },
        );
      }
    };
    for (let b = 0; b < sessions.length; b++) pump(b);
  });
}

function unbind(s: SmppSessionObject): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      s.destroy();
      resolve();
    }, 2_000);
    s.unbind({}, () => {
      clearTimeout(t);
      s.close(() => resolve());
    });
  });
}

const channel = childChannel<ToClient>(async (msg) => {
  switch (msg.type) {
    case 'start': {
      config = msg;
      limitTimer = setTimeout(() => {
        throw new Error(`client did not finish within ${config.limitMs} ms`);
      }, config.limitMs);
      sessions = await Promise.all(Array.from({ length: config.binds }, () => connectAndBind(config.port)));
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
      await Promise.all(sessions.map(unbind));
      channel.sendThenExit({ type: 'closed' });
      break;
  }
});
