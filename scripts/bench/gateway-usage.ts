// Preloaded (`node --import`) into the load-tool child by the gateway benchmark: when the process
// exits it writes one line `BENCH_USAGE {"cpuUserUs":…,"cpuSystemUs":…,"maxRssKiB":…}` to stderr,
// so the orchestrator gets the CPU and peak RSS of a process whose /proc entry is gone by then.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const cpu = process.cpuUsage();
  const maxRssKiB = process.resourceUsage().maxRSS;
  try {
    writeSync(2, `\nBENCH_USAGE ${JSON.stringify({ cpuUserUs: cpu.user, cpuSystemUs: cpu.system, maxRssKiB })}\n`);
  } catch {
    // stderr gone: nothing to report
  }
});
