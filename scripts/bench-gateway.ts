// End-to-end gateway benchmark: `smppgw load` → gateway → simulator against `smppgw load` → the same
// simulator, every one a separate process on 127.0.0.1 (see scripts/bench/gateway.ts).
//
//   node dist/scripts/bench-gateway.js [--messages N (20000)] [--binds B (2)] [--window W (50)]
//        [--dlr | --no-dlr] [--tls] [--quick] [--json] [--warmup N (2000)] [--half-messages N (messages/2)]
//        [--account-window N (max(200, W))] [--connector-window N (max(200, W×B))]
//        [--synchronous full|normal (default: the gateway's config default, full)]
//        [--cpu-prof: V8 profile of the gateway under bench-results/profiles/]
//        [--half-binds N|auto (auto)] [--sim-window N (50)] [--limit-ms N (120000)] [--out FILE] [--quiet]
//
// Prints one table (or the JSON with --json) and writes the JSON to bench-results/gateway-<timestamp>.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_DIR, machineInfo, parseArgs, round2, stamp } from './bench/common.js';
import { runGatewayBench } from './bench/gateway.js';
import { formatGatewayReport, gatewayOptionsFromArgs, type GatewayReport } from './bench/gateway-report.js';
import { formatSummary, summarizeProfiles } from './bench/profile-summary.js';

async function main(argv = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const asJson = args.has('json');
  const quiet = args.has('quiet');
  const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const options = gatewayOptionsFromArgs(args, log, '', args.has('quick'));
  const meta = machineInfo();
  const profDir = path.join(RESULTS_DIR, 'profiles', `gateway-${stamp(meta.timestamp)}`);
  if (args.has('cpu-prof')) mkdirSync(profDir, { recursive: true });
  log(`bench-gateway: node ${meta.node}; ${meta.cpuModel} × ${meta.cpuCount}; load ${meta.loadAvgAtStart.join('/')}`);
  const result = await runGatewayBench({ ...options, ...(args.has('cpu-prof') ? { cpuProfDir: profDir } : {}) });
  meta.loadAvgAtEnd = os.loadavg().map(round2);
  const report: GatewayReport = { meta, gateway: result };
  const file = typeof args.get('out') === 'string' ? path.resolve(args.get('out') as string) : path.join(RESULTS_DIR, `gateway-${stamp(meta.timestamp)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const json = JSON.stringify(report, null, 2);
  writeFileSync(file, `${json}\n`);
  if (asJson) process.stdout.write(`${json}\n`);
  else process.stdout.write(`${formatGatewayReport(report)}\n`);
  log(`bench-gateway: JSON written to ${path.relative(process.cwd(), file) || file}`);
  if (args.has('cpu-prof')) {
    const files = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(profDir, f));
    const text =
      files.length > 0 ? formatSummary('gateway process (whole run: warm-up, full and half load)', summarizeProfiles(files), 30) : 'no profile written';
    writeFileSync(path.join(profDir, 'summary.txt'), `${text}\n`);
    process.stderr.write(`CPU profile of the gateway in ${profDir} (profiling slows it: ignore this run's rates)\n${text}\n`);
  }
}

await main().catch((err: unknown) => {
  console.error(`bench-gateway failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
