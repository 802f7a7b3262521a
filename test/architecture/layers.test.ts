/**
 * One-way layers: every relative import in lib/ points down the stack (or sideways within its rank), never up.
 *
 *   util -> data -> kernels -> model -> train -> eval / seqrec / retrieval / recommend -> app / viz / serve
 *
 * A new top-level folder of lib/ must be given a rank in LAYER_RANKS, or this test fails and says so. lib/index.ts
 * (the one barrel for notebooks and scripts) sits above everything; no other file may sit loose at lib/'s root.
 */
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.resolve(__dirname, '..', '..', 'lib');

/** Rank of each top-level folder of lib/: a file may import from its own rank or below. */
const LAYER_RANKS: Record<string, number> = {
  util: 0,
  data: 1,
  kernels: 2,
  model: 3,
  train: 4,
  eval: 5,
  seqrec: 5,
  retrieval: 5,
  recommend: 5,
  app: 6,
  viz: 6,
  serve: 6,
  // lib/index.ts, the public barrel, re-exports every layer
  'index.ts': 7,
};

/** Files outside lib/ that lib may read (the package version recorded with results). */
const OUTSIDE_LIB = new Set(['../package.json']);

/** One relative import found in a lib source file. */
interface ImportEdge {
  /** importing file, relative to lib/ */
  from: string;
  /** imported file or folder, relative to lib/ */
  to: string;
  /** 1-based line of the import */
  line: number;
}

/** Every .ts file under dir, relative to LIB. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(path.relative(LIB, p));
  }
  return out;
}

// `from '...'`, `import('...')`, `require('...')`, `import '...'`; comments are stripped first
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*|\.{1,2})\1/gm;

/** An import target relative to lib/ as the file it loads (`x` -> `x.ts`, a folder -> its index.ts) when it exists. */
function resolveFile(rel: string): string {
  const abs = path.join(LIB, rel);
  if (fs.existsSync(`${abs}.ts`)) return `${rel}.ts`;
  if (fs.existsSync(path.join(abs, 'index.ts'))) return path.join(rel, 'index.ts');
  return rel;
}

/** The relative imports of one source text (file relative to lib/), with line numbers. */
function importsOf(file: string, text: string): ImportEdge[] {
  // blank out comments, keeping newlines so line numbers stay right
  const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '));
  const edges: ImportEdge[] = [];
  for (const m of code.matchAll(SPECIFIER)) {
    const to = resolveFile(path.normalize(path.join(path.dirname(file), m[2])));
    edges.push({ from: file, to, line: code.slice(0, m.index).split('\n').length });
  }
  return edges;
}

/** The layer of a path relative to lib/: its top-level folder, or the file name for a root file. */
function layerOf(rel: string): string {
  return rel.split(path.sep)[0];
}

/** Problems with a set of import edges under a rank table: unranked layers, upward imports, imports out of lib. */
function layerViolations(edges: ImportEdge[], ranks: Record<string, number>): string[] {
  const problems: string[] = [];
  const unranked = new Set<string>();
  for (const e of edges) {
    const a = layerOf(e.from),
      b = layerOf(e.to);
    if (e.to.startsWith('..')) {
      if (!OUTSIDE_LIB.has(e.to)) problems.push(`lib/${e.from}:${e.line} imports '${e.to}' outside lib/`);
      continue;
    }
    for (const l of [a, b]) if (!(l in ranks)) unranked.add(l);
    if (!(a in ranks) || !(b in ranks)) continue;
    if (ranks[b] > ranks[a]) {
      problems.push(
        `lib/${e.from}:${e.line} (layer '${a}', rank ${ranks[a]}) imports lib/${e.to} (layer '${b}', rank ${ranks[b]}): an import up the stack`,
      );
    }
  }
  for (const l of unranked) {
    problems.unshift(
      `lib/${l} has no rank: give the new folder a place in LAYER_RANKS (test/architecture/layers.test.ts) or move the file into a folder`,
    );
  }
  return problems;
}

/** Import cycles between top-level folders (same-rank folders may import each other one way only). */
function folderCycles(edges: ImportEdge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = layerOf(e.from),
      b = layerOf(e.to);
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, trail: string[]): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(n)), n].join(' -> '));
      return;
    }
    state.set(n, 'open');
    for (const m of next.get(n) ?? []) visit(m, [...trail, n]);
    state.set(n, 'done');
  };
  for (const n of next.keys()) visit(n, []);
  return cycles;
}

function libEdges(): ImportEdge[] {
  return sourceFiles(LIB).flatMap((f) => importsOf(f, fs.readFileSync(path.join(LIB, f), 'utf8')));
}

describe('lib layers', () => {
  test('the parser finds the imports of a real file (lib/index.ts re-exports every layer)', () => {
    const edges = libEdges();
    expect(edges.length).toBeGreaterThan(300);
    const fromIndex = new Set(edges.filter((e) => e.from === 'index.ts').map((e) => layerOf(e.to)));
    for (const l of ['util', 'data', 'model', 'train', 'eval', 'recommend', 'app', 'viz'])
      expect(fromIndex).toContain(l);
  });

  test('every import in lib points down the stack or sideways', () => {
    expect(layerViolations(libEdges(), LAYER_RANKS)).toEqual([]);
  });

  test('no import cycle between folders', () => {
    expect(folderCycles(libEdges())).toEqual([]);
  });

  test('an upward import, an unranked folder and a cycle are each reported', () => {
    const planted = importsOf('model/build.ts', "import { train } from '../train/index';\nimport x from '../app/cli';");
    const up = layerViolations(planted, LAYER_RANKS);
    expect(up).toHaveLength(2);
    expect(up[0]).toMatch(/lib\/model\/build\.ts:1 .*imports lib\/train\/index\.ts .*up the stack/);
    const unknown = layerViolations(importsOf('ensemble/mix.ts', "import { x } from '../model/build';"), LAYER_RANKS);
    expect(unknown).toEqual([expect.stringMatching(/lib\/ensemble has no rank: .*LAYER_RANKS/)]);
    const loose = layerViolations(importsOf('helpers.ts', "import { x } from './util/rng';"), LAYER_RANKS);
    expect(loose[0]).toMatch(/lib\/helpers\.ts has no rank/);
    const cyc = folderCycles([
      ...importsOf('eval/a.ts', "import '../recommend/b';"),
      ...importsOf('recommend/b.ts', "import '../eval/a';"),
    ]);
    expect(cyc).toEqual(['eval -> recommend -> eval']);
    // commented-out imports do not count
    expect(importsOf('model/x.ts', "// import { y } from '../app/cli';\n/* from '../app/cli' */")).toEqual([]);
  });

  test("README's layout table names every folder of lib/ and every file of lib/app/", () => {
    const readme = fs.readFileSync(path.join(LIB, '..', 'README.md'), 'utf8');
    const row = readme.split('\n').find((l) => l.startsWith('| `lib/` |')) ?? '';
    const folders = fs
      .readdirSync(LIB, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `\`${e.name}/\``);
    const app = fs.readdirSync(path.join(LIB, 'app')).map((f) => `\`${f}\``);
    expect([...folders, ...app].filter((name) => !row.includes(name))).toEqual([]);
  });
});
