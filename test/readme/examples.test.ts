/**
 * Every `bst` example of the README works as written. The examples are read from the README's bash blocks
 * (`npm run bst -- ...` and `npm run benchmark -- ...`, the latter with package.json's own arguments).
 *
 * Fast tier: each example names a known command and only flags that command lists. Slow tier (skipped with
 * BST_SKIP_NOTEBOOK_TESTS=1, like the notebook runs): the fast examples run in order, in-process, in a fresh
 * folder (their relative `runs/...` paths land there), on real ml-100k (BST_DATASET=ml-100k, as the README's
 * "Choosing the data" says), with a tiny budget (`--epochs 1 --set <tiny model> --no-progress` appended to the training commands, and `--max-users 200` to
 * train-recommender); each
 * must exit 0. SLOW lists the examples left out and why.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { captureCli } from '../cli/helpers';

const ROOT = path.resolve(__dirname, '../..');
const DATA =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? process.env.BST_DATA_DIR
    : path.resolve(ROOT, '../shared/data');
const SKIP_SLOW = ['1', 'true', 'yes'].includes((process.env.BST_SKIP_NOTEBOOK_TESTS ?? '').toLowerCase());

/** One README example: its line, its text and the argv `bst` receives. */
interface Example {
  line: number;
  text: string;
  argv: string[];
}

/** Split a shell command line into words (single and double quotes; no expansions). */
function shellWords(s: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** The `bst` examples of a README's bash blocks, with the npm script's own arguments prepended. */
function readmeExamples(readme: string, scripts: Record<string, string>): Example[] {
  const out: Example[] = [];
  let inBash = false;
  readme.split('\n').forEach((raw, i) => {
    if (/^```bash\s*$/.test(raw)) inBash = true;
    else if (/^```/.test(raw)) inBash = false;
    if (!inBash) return;
    const text = raw.replace(/\s+#.*$/, '').trim();
    const m = /^npm run (bst|benchmark) -- (.*)$/.exec(text);
    if (!m) return;
    const script = shellWords(scripts[m[1]]); // node scripts/bst.js [args...]
    const own = script.slice(script.indexOf('scripts/bst.js') + 1);
    out.push({ line: i + 1, text, argv: [...own, ...shellWords(m[2])] });
  });
  return out;
}

/** Examples left out of the slow run, and why. */
const SLOW: Array<{ match: RegExp; why: string }> = [
  { match: /^tune\b/, why: 'a hyperparameter search: minutes to hours' },
  { match: /^benchmark\b/, why: 'baselines + BST x 3 seeds x 2 objectives: 13 min on ml-100k' },
  { match: /--dataset ml-1m\b/, why: 'downloads ML-1M (the tests stay offline)' },
  {
    match: /^serve\b/,
    why: 'a server runs until stopped (test/serve/load.test.ts starts the real bst serve, reloads and stops it)',
  },
];

/** A tiny model (the tests' usual one) trained for one epoch: what the slow tier appends to training commands. */
const TINY =
  'embedDim=4,posDim=2,ratingDim=2,numHeads=2,mlpUnits=8,userDim=2,demoDim=2,genreDim=2,yearDim=2,batchSize=2048';

/** The example's argv with the tiny budget appended to training commands (a resumed run keeps its own config). */
function budget(argv: string[]): string[] {
  if (!['train', 'train-recommender'].includes(argv[0])) return argv;
  if (argv.includes('--resume')) return [...argv, '--epochs', '1'];
  return [
    ...argv,
    '--epochs',
    '1',
    '--set',
    TINY,
    '--no-progress',
    ...(argv[0] === 'train-recommender' ? ['--max-users', '200', '--retriever-epochs', '1'] : []),
  ];
}

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const examples = readmeExamples(readme, pkg.scripts);
const slowWhy = (e: Example) => SLOW.find((s) => s.match.test(e.argv.join(' ')))?.why;
const { run, out, err } = captureCli();

test('the README has bst examples, and each names a known command and only its flags', async () => {
  expect(examples.length).toBeGreaterThanOrEqual(10);
  expect(await run(['help'])).toBe(0);
  const commands = new Set(
    out
      .join('\n')
      .match(/^\s{2}([a-z-]+)\s/gm)
      ?.map((s) => s.trim()) ?? [],
  );
  for (const e of examples) {
    const [name, ...rest] = e.argv;
    if (name === 'help') continue;
    expect({ line: e.line, name, known: commands.has(name) }).toEqual({ line: e.line, name, known: true });
    expect(await run([name, '--help'])).toBe(0);
    const flags = new Set(out.join('\n').match(/--[a-z][a-z0-9-]*/g) ?? []);
    for (const a of rest.filter((w) => w.startsWith('--'))) {
      const flag = a.replace(/=.*$/, '').replace(/^--no-/, '--');
      expect({ line: e.line, flag, known: flags.has(flag) }).toEqual({ line: e.line, flag, known: true });
    }
  }
});

test('the committed benchmark table is regenerated only when asked: bst benchmark writes runs/benchmark, npm run benchmark results/benchmark', () => {
  const bench = examples.filter((e) => e.argv[0] === 'benchmark');
  const viaNpm = bench.find((e) => e.text.startsWith('npm run benchmark -- --dataset ml-100k'));
  expect(viaNpm?.argv.slice(0, 3)).toEqual(['benchmark', '--out', 'results/benchmark']);
  // every `bst benchmark` example that writes under results/ says so with --out; the plain one writes runs/
  const plain = bench.filter((e) => e.text.startsWith('npm run bst -- benchmark'));
  expect(plain.some((e) => !e.argv.includes('--out'))).toBe(true);
  for (const e of plain.filter((x) => x.argv.includes('--out')))
    expect([e.line, e.argv[e.argv.indexOf('--out') + 1]]).toEqual([e.line, expect.stringMatching(/^results\//)]);
  return run(['benchmark', '--help']).then((code) => {
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/--out[^\n]*default:? runs\/benchmark/);
  });
});

(SKIP_SLOW ? describe.skip : describe)('README examples run as written (ml-100k, one epoch)', () => {
  const cwd = process.cwd();
  const saved = { ...process.env };
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-readme-'));
    process.chdir(tmp);
    Object.assign(process.env, {
      BST_DATASET: 'ml-100k',
      BST_DATA_DIR: DATA,
      BST_BACKEND: process.env.BST_BACKEND || 'wasm',
    });
  });
  afterAll(() => {
    process.chdir(cwd);
    for (const k of ['BST_DATASET', 'BST_DATA_DIR', 'BST_BACKEND']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('slow examples left out', () => {
    const left = examples.filter(slowWhy).map((e) => `README:${e.line} ${e.text}  (${slowWhy(e)})`);
    console.info(`README examples not run here:\n${left.join('\n')}`);
    expect(left.length).toBeLessThan(examples.length / 2);
  });

  for (const e of examples) {
    if (slowWhy(e)) continue;
    test(`README:${e.line} ${e.text}`, async () => {
      const argv = budget(e.argv);
      const code = await run(argv);
      if (code !== 0) throw new Error(`exit ${code}: ${err.join('\n')}`);
    }, 180_000);
  }
});
