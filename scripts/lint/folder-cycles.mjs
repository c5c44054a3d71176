// Fails when src/ has an import cycle between folders (each top-level file counts as its own
// node): a folder is one concern, and concerns depend one way. Prints each cycle's members and one
// import of each edge, so the fix is easy to find. Plain JS: it runs before any build.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');
const files = (function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
})(root);
const nodeOf = (file) => {
  const rel = relative(root, file);
  return rel.includes('/') ? `${rel.split('/')[0]}/` : rel;
};

/** node → node → one example "file imports spec". */
const edges = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const target = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
    const a = nodeOf(file);
    const b = nodeOf(target);
    if (a === b || relative(root, target).startsWith('..')) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.get(a).has(b)) edges.get(a).set(b, `${relative(root, file)} imports ${m[1]}`);
  }
}

// Tarjan's strongly connected components: every component with more than one node is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) !== idx.get(v)) return;
  const members = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    members.push(w);
  } while (w !== v);
  if (members.length > 1) cycles.push(members.sort());
}
for (const v of edges.keys()) if (!idx.has(v)) visit(v);

if (cycles.length === 0) {
  console.log(`folder-cycles: none among ${new Set(files.map(nodeOf)).size} folders and files of ${relative(process.cwd(), root) || '.'}`);
} else {
  for (const members of cycles) {
    console.error(`folder-cycles: ${members.join(' ↔ ')}`);
    for (const a of members) for (const [b, example] of edges.get(a) ?? []) if (members.includes(b)) console.error(`  ${a} → ${b}: ${example}`);
  }
  process.exitCode = 1;
}
