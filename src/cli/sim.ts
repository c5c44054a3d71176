// `smppgw sim smsc …` runs the SMSC simulator; `smppgw load …` runs the ESME load generator.
// Both are thin: the work is in src/sim/smsc.ts and src/sim/load.ts. docs/simulator.md describes
// every flag and the JSON they print.
import type { EventEmitter } from 'node:events';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { createLogger, type Logger } from '../log.js';
import { loadExitCode, runLoad } from '../sim/load.js';
import { SmscSimulator } from '../sim/smsc.js';
import { AddressRange, parseStatusList, parseStatWeights, seededRandom } from '../sim/util.js';
import { intArg } from './admin.js';

/** Where the commands write and how they end; tests pass their own. */
export interface CliIo {
  /** One line of stdout (the load summary). */
  stdout(line: string): void;
  exit(code: number): void;
  /** The logger to use instead of the default (stdout for sim, stderr for load). */
  logger?: Logger;
  /** Where SIGINT/SIGTERM come from (default: the process). */
  signals?: EventEmitter;
}

const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  exit: (code) => process.exit(code),
};

function wrap<T>(parse: (v: string) => T) {
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function fractionArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a fraction 0..1');
  return n;
}

function rateArg(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function listArg(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

const addressArg = wrap((v: string) => {
  new AddressRange(v); // throws on a malformed range
  return v;
});

/** Logs on stderr: stdout carries the JSON result. */
function stderrLogger(level: string): Logger {
  return createLogger({ level }, pino.destination({ fd: 2, sync: true }));
}

interface SmscFlags {
  port: number;
  host: string;
  systemId?: string;
  password?: string;
  bindFailures: number;
  bindFailRate: number;
  smscId?: string;
  idFormat: 'hex' | 'dec';
  idStart?: number;
  dlrDelay: number;
  dlrStat: string;
  moRate: number;
  moFrom: string;
  moTo?: string[];
  moText?: string[];
  moCount?: number;
  moSystemId?: string;
  throttle: number;
  errorRate: number;
  errorStatus?: number[];
  dropRate: number;
  neverAnswer?: boolean;
  disconnectAfter: number;
  disconnectMidWindow?: boolean;
  window: number;
  dlrTimeout: number;
  retryDelay: number;
  maxAttempts: number;
  seed?: number;
  statsEvery: number;
  logLevel: string;
}

/** `smppgw sim smsc`: an SMSC simulator for gateway and connector tests. */
export function simCommand(io: CliIo = processIo): Command {
  const sim = new Command('sim').description('simulators for testing: an SMSC (`sim smsc`)');
  sim
    .command('smsc')
    .description('run an SMSC simulator: takes binds, answers submits, sends receipts and MOs; JSON log lines on stdout, a summary line on SIGTERM/SIGINT')
    .option('--port <n>', 'port to listen on (0 picks a free one)', intArg(0, 65_535), 2775)
    .option('--host <h>', 'address to listen on', '0.0.0.0')
    .option('--system-id <s>', 'accept only binds with this system_id (default: any)')
    .option('--password <p>', 'accept only binds with this password (default: any)')
    .option('--bind-failures <n>', 'refuse the first N binds with ESME_RBINDFAIL, then accept', intArg(0), 0)
    .option('--bind-fail-rate <f>', 'fraction of binds refused with ESME_RBINDFAIL', fractionArg, 0)
    .option('--smsc-id <s>', 'system_id in our bind responses', 'SIMSMSC')
    .addOption(new Option('--id-format <f>', 'message ids in hex or decimal').choices(['hex', 'dec']).default('hex'))
    .option('--id-start <n>', 'first message id, as a number (default: wall-clock ms × 1000)', intArg(0))
    .option('--dlr-delay <ms>', 'receipt delay after the submit response (0: right after it)', intArg(0), 1000)
    .option(
      '--dlr-stat <weights>',
      'receipt stats and weights, e.g. DELIVRD=90,UNDELIV=10',
      wrap((v) => {
        parseStatWeights(v);
        return v;
      }),
      'DELIVRD=100',
    )
    .option('--mo-rate <n>', 'MO messages per second to bound receivers', rateArg, 0)
    .option('--mo-from <range>', 'MO senders: an address or FROM..TO', addressArg, '4917000000..4917099999')
    .option('--mo-to <list>', 'MO recipients (short codes), comma-separated or repeated', listArg)
    .option('--mo-text <text>', 'MO text (repeat for several, one is picked at random)', collect)
    .option('--mo-count <n>', 'stop after this many MOs', intArg(0))
    .option('--mo-system-id <s>', 'send MOs only to receivers of this system_id')
    .option('--throttle <n>', 'at most N submits per second over all binds; more get ESME_RTHROTTLED (0: no limit)', rateArg, 0)
    .option('--error-rate <f>', 'fraction of submits answered with an error status', fractionArg, 0)
    .option('--error-status <list>', 'statuses for --error-rate, e.g. 0x45 or 0x14,0x58 (default 0x14,0x58,0x08,0x0b,0x45)', wrap(parseStatusList))
    .option('--drop-rate <f>', 'fraction of submits never answered', fractionArg, 0)
    .option('--never-answer', 'bind and answer enquire_link, but never answer a submit (a wedged carrier)')
    .option('--disconnect-after <n>', 'drop the connection after every N submits on it (0: never)', intArg(0), 0)
    .option('--disconnect-mid-window', 'with --disconnect-after: cut the connection at the Nth submit (taken, never answered) instead of after answering it')
    .option('--window <n>', 'outstanding deliver_sm per bind', intArg(1), 10)
    .option('--dlr-timeout <ms>', 'deliver_sm response timeout', intArg(1), 10_000)
    .option('--retry-delay <ms>', 'delay before a deliver_sm is sent again', intArg(0), 1000)
    .option('--max-attempts <n>', 'tries per receipt or MO', intArg(1), 5)
    .option('--seed <n>', 'seed the random draws (reproducible runs)', intArg(0))
    .option('--stats-every <ms>', 'log a stats line this often (0: never)', intArg(0), 10_000)
    .option('--log-level <level>', 'info logs binds; debug every PDU outcome', 'info')
    .action(async (o: SmscFlags) => {
      const log = io.logger ?? createLogger({ level: o.logLevel });
      const simulator = new SmscSimulator({
        host: o.host,
        port: o.port,
        ...(o.systemId !== undefined ? { systemId: o.systemId } : {}),
        ...(o.password !== undefined ? { password: o.password } : {}),
        bindFailures: o.bindFailures,
        bindFailRate: o.bindFailRate,
        ...(o.smscId !== undefined ? { smscId: o.smscId } : {}),
        idFormat: o.idFormat,
        ...(o.idStart !== undefined ? { idStart: o.idStart } : {}),
        dlrDelayMs: o.dlrDelay,
        dlrStat: o.dlrStat,
        moRate: o.moRate,
        moFrom: o.moFrom,
        ...(o.moTo ? { moTo: o.moTo } : {}),
        ...(o.moText ? { moText: o.moText } : {}),
        ...(o.moCount !== undefined ? { moCount: o.moCount } : {}),
        ...(o.moSystemId !== undefined ? { moSystemId: o.moSystemId } : {}),
        throttle: o.throttle,
        errorRate: o.errorRate,
        ...(o.errorStatus ? { errorStatuses: o.errorStatus } : {}),
        dropRate: o.dropRate,
        neverAnswer: o.neverAnswer === true,
        disconnectAfter: o.disconnectAfter,
        disconnectMidWindow: o.disconnectMidWindow === true,
        window: o.window,
        dlrTimeoutMs: o.dlrTimeout,
        retryDelayMs: o.retryDelay,
        maxAttempts: o.maxAttempts,
        ...(o.seed !== undefined ? { random: seededRandom(o.seed) } : {}),
        logger: log,
      });
      const addr = await simulator.start();
      log.info({ port: addr.port, host: addr.address }, 'ready');
      const statsTimer = o.statsEvery > 0 ? setInterval(() => log.info({ stats: simulator.summary() }, 'stats'), o.statsEvery) : undefined;
      const signals = io.signals ?? process;
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        if (statsTimer) clearInterval(statsTimer);
        log.info({ signal }, 'stopping');
        const summary = simulator.summary();
        simulator.stop().then(
          () => {
            log.info({ summary }, 'summary');
            io.exit(0);
          },
          (err: Error) => {
            log.error({ err: err.message, summary }, 'summary');
            io.exit(0);
          },
        );
      };
      signals.once('SIGTERM', () => stop('SIGTERM'));
      signals.once('SIGINT', () => stop('SIGINT'));
    });
  return sim;
}

interface LoadFlags {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  count: number;
  window: number;
  rate: number;
  binds: number;
  dlr?: boolean;
  source: string;
  dest: string;
  text: string;
  timeoutMs: number;
  responseTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectDelayMs: number;
  bindType: 'trx' | 'tx';
  logLevel: string;
}

/** `smppgw load`: an ESME load generator that prints one JSON summary line. */
export function loadCommand(io: CliIo = processIo): Command {
  return new Command('load')
    .description(
      'send N submit_sm to an SMSC (or the gateway) and print one JSON summary line; exit 0 when every message was acked (and with --dlr every receipt matched)',
    )
    .option('--host <h>', 'SMSC host', '127.0.0.1')
    .requiredOption('--port <n>', 'SMSC port', intArg(1, 65_535))
    .requiredOption('--system-id <s>', 'bind system_id')
    .option('--password <p>', 'bind password', '')
    .option('--system-type <s>', 'bind system_type')
    .requiredOption('-n, --count <n>', 'messages to send', intArg(0))
    .option('--window <n>', 'outstanding submit_sm per bind', intArg(1), 10)
    .option('--rate <n>', 'messages per second over all binds (0: no pacing)', rateArg, 0)
    .option('--binds <n>', 'binds to send on', intArg(1), 1)
    .option('--dlr', 'ask for receipts and wait for them')
    .option('--source <s>', 'source_addr (an address or FROM..TO)', addressArg, 'SMPPGW')
    .option('--dest <d>', 'destination_addr, or FROM..TO walked in order', addressArg, '4917000000..4917099999')
    .option('--text <t>', 'message text; {n} becomes the message number', 'smppgw load {n}')
    .option('--timeout-ms <ms>', 'with --dlr: wait this long for receipts after the last response', intArg(0), 30_000)
    .option('--response-timeout-ms <ms>', 'submit_sm response timeout', intArg(1), 10_000)
    .option('--connect-timeout-ms <ms>', 'connect + bind timeout; reconnecting gives up after this long', intArg(1), 10_000)
    .option('--reconnect-delay-ms <ms>', 'delay before binding again after a lost connection', intArg(0), 100)
    .addOption(new Option('--bind-type <t>', 'trx: transceivers; tx: transmitters (plus receivers with --dlr)').choices(['trx', 'tx']).default('trx'))
    .option('--log-level <level>', 'log level of the stderr log', 'warn')
    .action(async (o: LoadFlags) => {
      const log = io.logger ?? stderrLogger(o.logLevel);
      const abort = new AbortController();
      const signals = io.signals ?? process;
      const onSignal = () => abort.abort();
      signals.on('SIGINT', onSignal);
      signals.on('SIGTERM', onSignal);
      // Our timers do not hold the process up; between connections nothing else would.
      const keepAlive = setInterval(() => {}, 1 << 30);
      try {
        const summary = await runLoad({
          host: o.host,
          port: o.port,
          systemId: o.systemId,
          password: o.password,
          ...(o.systemType !== undefined ? { systemType: o.systemType } : {}),
          count: o.count,
          window: o.window,
          rate: o.rate,
          binds: o.binds,
          dlr: o.dlr === true,
          source: o.source,
          dest: o.dest,
          text: o.text,
          timeoutMs: o.timeoutMs,
          responseTimeoutMs: o.responseTimeoutMs,
          connectTimeoutMs: o.connectTimeoutMs,
          reconnectDelayMs: o.reconnectDelayMs,
          bindType: o.bindType,
          signal: abort.signal,
          logger: log,
        });
        io.stdout(JSON.stringify(summary));
        io.exit(loadExitCode(summary));
      } finally {
        clearInterval(keepAlive);
        signals.off('SIGINT', onSignal);
        signals.off('SIGTERM', onSignal);
      }
    });
}
