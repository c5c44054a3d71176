// Loopback submit_sm → submit_sm_resp throughput over 1 and 4 binds, our server and client against
// the `smpp` package's, each side in its own process (see docs/benchmarks.md).
//
//   node dist/scripts/bench-loopback.js [--json] [--cpu-prof [ours|smpp|all]] [--all] …
//   (options: scripts/bench/cli.ts; --all adds the codec and gateway benchmarks)
import { runCli } from './bench/cli.js';

await runCli(['loopback']).catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
