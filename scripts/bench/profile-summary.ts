// Summarises V8 .cpuprofile files (from node --cpu-prof): top functions by self time, the same by
// inclusive time for our own code, and self time grouped by source area.
//
//   node dist/scripts/bench/profile-summary.js <file.cpuprofile | directory> … [--top 25]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  files: string[];
  /** Sampled time, excluding (idle). */
  busyMs: number;
  idleMs: number;
  functions: FunctionTime[];
  areas: Array<{ area: string; selfMs: number; selfPct: number }>;
}

/** file:///…/dist/src/smpp/session.js → src/smpp/session.js; node_modules/x/…; node:… unchanged. */
function shortUrl(url: string): string {
  if (url === '') return '';
  const n = url.lastIndexOf('/node_modules/');
  if (n >= 0) return url.slice(n + 1);
  const m = /\/((?:src|scripts)\/[^/].*)$/.exec(url);
  if (m) return m[1]!;
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const u = shortUrl(url);
  if (u.startsWith('src/')) return u.replace(/\.js$/, '.ts');
  if (u.startsWith('scripts/')) return 'scripts/bench (the benchmark driver)';
  if (u.startsWith('node_modules/')) return u.split('/').slice(0, 2).join('/');
  if (u.startsWith('node:internal/streams') || u.startsWith('node:stream')) return 'node: streams';
  if (u.startsWith('node:net') || u.startsWith('node:internal/stream_base_commons')) return 'node: net / stream_base';
  if (u.startsWith('node:internal/timers') || u.startsWith('node:timers')) return 'node: timers / setImmediate';
  if (u.startsWith('node:internal/process/task_queues') || u.startsWith('node:internal/process/promises')) return 'node: microtasks / nextTick';
  if (u.startsWith('node:buffer') || u.startsWith('node:internal/buffer')) return 'node: buffer';
  if (u.startsWith('node:events') || u.startsWith('node:internal/events')) return 'node: events';
  if (u.startsWith('node:')) return 'node: other';
  return u;
}

function collect(target: string): string[] {
  if (statSync(target).isDirectory()) {
    return readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => path.join(target, f));
  }
  return [target];
}

/** Adds up several profiles (e.g. every round of one process role) into one summary. */
export function summarizeProfiles(targets: string[]): ProfileSummary {
  const files = targets.flatMap(collect);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  const labels = new Map<string, { name: string; where: string }>();
  let idleUs = 0;
  let busyUs = 0;
  for (const file of files) {
    const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of prof.nodes) byId.set(n.id, n);
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const keyOf = (n: ProfileNode): string => {
      const cf = n.callFrame;
      const name = cf.functionName || '(anonymous)';
      const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
      const key = `${name}@${where}`;
      if (!labels.has(key)) labels.set(key, { name, where });
      return key;
    };
    const { samples, timeDeltas } = prof;
    for (let i = 0; i < samples.length; i++) {
      // timeDeltas[i] is the gap before sample i, so the time sample i stands for is the next gap.
      const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
      const node = byId.get(samples[i]!);
      if (node === undefined) continue;
      const name = node.callFrame.functionName;
      if (name === '(idle)') {
        idleUs += dt;
        continue;
      }
      busyUs += dt;
      const key = keyOf(node);
      self.set(key, (self.get(key) ?? 0) + dt);
      const area = areaOf(node.callFrame.url, name);
      areas.set(area, (areas.get(area) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const k = keyOf(byId.get(id)!);
        if (seen.has(k)) continue;
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
    }
  }
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const functions = [...labels.entries()]
    .filter(([k]) => !k.startsWith('(root)'))
    .map(([k, l]) => ({
      ...l,
      selfMs: (self.get(k) ?? 0) / 1000,
      selfPct: pct(self.get(k) ?? 0),
      totalMs: (total.get(k) ?? 0) / 1000,
      totalPct: pct(total.get(k) ?? 0),
    }));
  return {
    files,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions,
    areas: [...areas.entries()].map(([area, us]) => ({ area, selfMs: us / 1000, selfPct: pct(us) })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

export function formatSummary(title: string, s: ProfileSummary, top = 20): string {
  const lines: string[] = [];
  const busyShare = s.busyMs + s.idleMs > 0 ? (100 * s.busyMs) / (s.busyMs + s.idleMs) : 0;
  lines.push(`== ${title}: ${s.files.length} profile(s), ${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle (${busyShare.toFixed(0)}% busy)`);
  lines.push(`-- top ${top} by self time (% of busy time)`);
  for (const f of [...s.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    lines.push(`${f.selfPct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
  lines.push('-- self time by area');
  for (const a of s.areas.slice(0, 16)) lines.push(`${a.selfPct.toFixed(1).padStart(5)}%  ${a.selfMs.toFixed(0).padStart(6)} ms  ${a.area}`);
  lines.push('-- our code (src/) by inclusive time');
  for (const f of [...s.functions]
    .filter((x) => x.where.startsWith('src/'))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top)) {
    lines.push(`${f.totalPct.toFixed(1).padStart(5)}%  self ${f.selfPct.toFixed(1).padStart(4)}%  ${f.name}  ${f.where}`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let top = 20;
  const ti = args.indexOf('--top');
  if (ti >= 0) {
    top = Number(args[ti + 1]);
    args.splice(ti, 2);
  }
  if (args.length === 0) {
    console.error('usage: node dist/scripts/bench/profile-summary.js <file.cpuprofile | dir> … [--top N]');
    process.exit(2);
  }
  console.log(formatSummary(args.join(' '), summarizeProfiles(args), top));
}
