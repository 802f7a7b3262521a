/**
 * The README's numbers come from the benchmark, not from a keyboard: its results section equals
 * results/benchmark/benchmark.md, and the split counts the benchmark recorded are the ones the data
 * pipeline produces for the real MovieLens-100k today.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BLOCKS, withAllResults } from '../../scripts/readme_results';
import { loadMovieLens, prepareData } from '../../lib/data';

const ROOT = path.resolve(__dirname, '..', '..');
const ML100K = path.resolve(ROOT, '..', 'shared', 'data', 'ml-100k');
const bench = JSON.parse(fs.readFileSync(path.join(ROOT, 'results', 'benchmark', 'benchmark.json'), 'utf8'));

test('README results sections = their benchmark tables (regenerate: npx tsx scripts/readme_results.ts)', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(BLOCKS.map((b) => b.file)).toEqual(['results/benchmark/benchmark.md', 'results/planted-1m/benchmark.md']);
  expect(withAllResults(readme)).toBe(readme);
});

test('the benchmark table and JSON agree', () => {
  const table = fs.readFileSync(path.join(ROOT, 'results', 'benchmark', 'benchmark.md'), 'utf8');
  for (const p of bench.protocols) {
    // the BST row: 'BST' in older benchmarks, 'BST (loss mse)' once rows name their objective
    const bst = p.models.find(
      (m: { name: string; loss?: string; ensembleOf?: number[] }) =>
        m.name === 'BST' || (m.loss !== undefined && !m.ensembleOf),
    );
    expect(table).toContain(`| ${bst.name} | ${bst.test.mae.mean.toFixed(4)} ± ${bst.test.mae.std.toFixed(4)} |`);
    expect(p.leaky).toBe(p.split.protocol === 'legacy-random-windows');
  }
});

test('split counts recorded by the benchmark match the pipeline on the real ml-100k', () => {
  const dataset = loadMovieLens({ dir: ML100K, release: 'ml-100k' });
  for (const p of bench.protocols) {
    const data = prepareData({
      dataset,
      protocol: p.split.protocol,
      k: p.split.k,
      step: p.split.step,
      seed: p.split.seed,
      seqLen: p.seqLen,
    });
    expect({
      train: data.counts.train,
      val: data.counts.val,
      test: data.counts.test,
      users: data.counts.users,
    }).toEqual({
      train: p.counts.train,
      val: p.counts.val,
      test: p.counts.test,
      users: p.counts.users,
    });
  }
  // the headline split, as asserted by test/data/ml100k.test.ts
  expect(bench.protocols[0].counts).toMatchObject({ protocol: 'leave-last-k', train: 90570, val: 4715, test: 4715 });
});
