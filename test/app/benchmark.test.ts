/**
 * lib/app/benchmark.ts on a tiny synthetic release (two seeds, one epoch): every baseline, the BST per seed and
 * the seed ensemble on the same test targets; the BST rows agree with the run folders; the files are written.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateSynthetic, loadMovieLens } from '../../lib/data';
import { bstName, ensembleName, runBenchmark } from '../../lib/app/benchmark';
import { initBackend } from '../../lib/kernels/backend';

let tmp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-benchmark-'));
  generateSynthetic({
    dir: path.join(tmp, 'data', 'ml-1m'),
    format: 'ml-1m',
    numRatings: 1500,
    numUsers: 30,
    numMovies: 60,
    seed: 5,
  });
  await initBackend({ choice: 'wasm', log: () => {} }); // as the CLI does: the wasm backend with bst-lab's kernels
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('runBenchmark scores baselines, the BST per seed and its ensemble, and writes benchmark.json / .md', async () => {
  const dataset = loadMovieLens({ dir: path.join(tmp, 'data', 'ml-1m'), release: 'ml-1m' });
  const out = path.join(tmp, 'bench');
  const lines: string[] = [];
  const r = await runBenchmark({
    dataset,
    protocols: [{ split: { protocol: 'leave-last-k', k: 1, step: 2, seed: 42 }, seqLen: 3 }],
    seeds: [1, 2],
    config: { epochs: 1, embedDim: 8, numHeads: 2, mlpUnits: [16, 8], batchSize: 256 },
    outDir: out,
    log: (l) => lines.push(l),
  });
  expect(r.protocols).toHaveLength(1);
  const p = r.protocols[0];
  expect(p.leaky).toBe(false);
  const names = p.models.map((m) => m.name);
  const loss = r.losses[0];
  expect(names).toEqual(expect.arrayContaining(['global-mean', bstName(loss), ensembleName(loss, 2)]));
  for (const m of p.models) {
    for (const k of ['mae', 'rmse'] as const) expect(Number.isFinite(m.test[k].mean)).toBe(true);
  }
  // the BST row's per-seed test metrics are its run folders' test metrics (same model, same targets)
  const bst = p.models.find((m) => m.name === bstName(loss))!;
  expect(bst.perSeed.map((s) => s.seed)).toEqual([1, 2]);
  for (const s of bst.perSeed) {
    const run = JSON.parse(
      fs.readFileSync(path.join(out, 'runs', `leave-last-k-${loss}-seed${s.seed}`, 'metrics.json'), 'utf8'),
    );
    expect(s.test.rmse).toBeCloseTo(run.test.rmse, 5);
    expect(s.test.n).toBe(p.counts.test);
  }
  expect(bst.test.rmse.mean).toBeCloseTo((bst.perSeed[0].test.rmse! + bst.perSeed[1].test.rmse!) / 2, 12);
  const ens = p.models.find((m) => m.name === ensembleName(loss, 2))!;
  expect(ens.ensembleOf).toEqual([1, 2]);
  // files: the JSON is the result, the Markdown has a row per model
  const json = JSON.parse(fs.readFileSync(path.join(out, 'benchmark.json'), 'utf8'));
  expect(json.protocols[0].models.map((m: { name: string }) => m.name)).toEqual(names);
  const md = fs.readFileSync(path.join(out, 'benchmark.md'), 'utf8');
  for (const n of names) expect(md).toContain(n);
  expect(lines.some((l) => l.includes('benchmark: leave-last-k k=1'))).toBe(true);
}, 60_000);
