/**
 * Rating baselines on (1) real MovieLens-100k with a leave-last-5 split (and a random
 * split, only to compare with published random-split numbers) and (2) a synthetic ML-1M-sized data set
 * (1,000,209 seeded ratings, 6,040 users x 3,706 items) for speed.
 *
 *   npx tsx bench/baselines.ts            # both
 *   npx tsx bench/baselines.ts ml100k     # real data, leave-last-5 (our protocol)
 *   npx tsx bench/baselines.ts ml100k-random  # real data, random 72/8/20: compare with published numbers
 *   npx tsx bench/baselines.ts synthetic  # speed only
 *
 * ML-100k is read from $BST_DATA_DIR/ml-100k or ../shared/data/ml-100k with its own few lines of parsing, so
 * this bench does not depend on lib/data. Split: per user sorted by (time, item), last 5 ratings test, the 5
 * before validation, the rest train; items never rated in train are encoded as 0 (unknown).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Interactions, SplitIndex } from '../lib/data/types';
import { BaselineResult, evaluateRanking, fitBaselines, popularityScorer, popularityScores } from '../lib/eval';
import { Rng } from '../lib/util/rng';

interface Raw {
  user: number[];
  item: number[];
  rating: number[];
  ts: number[];
}

/**
 * Build Interactions + a split; item vocabulary from training targets only. k > 0: leave-last-k per user;
 * k = 0: seeded random 72/8/20 train/val/test over all ratings (the usual 80/20 with a tenth of train for val).
 */
function build(raw: Raw, k: number): { interactions: Interactions; split: SplitIndex; numItems: number } {
  const n = raw.user.length;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => raw.user[a] - raw.user[b] || raw.ts[a] - raw.ts[b] || raw.item[a] - raw.item[b],
  );
  const userIds = Array.from(new Set(order.map((i) => raw.user[i])));
  const userIdx = new Map(userIds.map((id, j) => [id, j + 1]));
  const numUsers = userIds.length + 1;
  const userOffsets = new Int32Array(numUsers + 1);
  const user = new Int32Array(n);
  const rating = new Float32Array(n);
  const timestamp = new Float64Array(n);
  order.forEach((src, p) => {
    user[p] = userIdx.get(raw.user[src])!;
    rating[p] = raw.rating[src];
    timestamp[p] = raw.ts[src];
    userOffsets[user[p] + 1] = p + 1;
  });
  for (let u = 1; u <= numUsers; u++) if (userOffsets[u] < userOffsets[u - 1]) userOffsets[u] = userOffsets[u - 1];
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  if (k > 0) {
    for (let u = 1; u < numUsers; u++) {
      const a = userOffsets[u];
      const b = userOffsets[u + 1];
      for (let p = a; p < b; p++) (p >= b - k ? test : p >= b - 2 * k ? val : train).push(p);
    }
  } else {
    const rng = new Rng(42);
    for (let p = 0; p < n; p++) {
      const x = rng.next();
      (x < 0.2 ? test : x < 0.28 ? val : train).push(p);
    }
  }
  const itemIdx = new Map<number, number>();
  for (const p of train) if (!itemIdx.has(raw.item[order[p]])) itemIdx.set(raw.item[order[p]], itemIdx.size + 1);
  const item = new Int32Array(n);
  for (let p = 0; p < n; p++) item[p] = itemIdx.get(raw.item[order[p]]) ?? 0;
  return {
    interactions: { userOffsets, user, item, rating, timestamp },
    split: {
      protocol: k > 0 ? 'leave-last-k' : 'legacy-random-windows',
      train: Int32Array.from(train),
      val: Int32Array.from(val),
      test: Int32Array.from(test),
    },
    numItems: itemIdx.size + 1,
  };
}

function readMl100k(): Raw {
  const dir = process.env.BST_DATA_DIR
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../shared/data/ml-100k');
  const raw: Raw = { user: [], item: [], rating: [], ts: [] };
  for (const line of fs.readFileSync(path.join(dir, 'u.data'), 'utf8').split('\n')) {
    if (!line) continue;
    const [u, i, r, t] = line.split('\t').map(Number);
    raw.user.push(u);
    raw.item.push(i);
    raw.rating.push(r);
    raw.ts.push(t);
  }
  return raw;
}

/** Seeded rank-4 latent ratings rounded to 1..5, ML-1M sized. */
function synthetic(numUsers: number, numItems: number, n: number, seed: number): Raw {
  const rng = new Rng(seed);
  const F = 4;
  const P = Float64Array.from({ length: numUsers * F }, () => rng.normal() * 0.5);
  const Q = Float64Array.from({ length: numItems * F }, () => rng.normal() * 0.5);
  const bu = Float64Array.from({ length: numUsers }, () => rng.normal() * 0.4);
  const bi = Float64Array.from({ length: numItems }, () => rng.normal() * 0.5);
  const raw: Raw = { user: [], item: [], rating: [], ts: [] };
  for (let t = 0; t < n; t++) {
    const u = rng.int(numUsers);
    const i = Math.min(numItems - 1, Math.floor(numItems * rng.next() ** 2)); // skewed popularity
    let x = 3.6 + bu[u] + bi[i] + rng.normal() * 0.8;
    for (let f = 0; f < F; f++) x += P[u * F + f] * Q[i * F + f];
    raw.user.push(u + 1);
    raw.item.push(i + 1);
    raw.rating.push(Math.min(5, Math.max(1, Math.round(x))));
    raw.ts.push(rng.int(1e9));
  }
  return raw;
}

function f(x: number | undefined, d = 4): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(d) : String(x);
}

function show(title: string, results: BaselineResult[]): void {
  console.log(`\n${title}`);
  console.log(
    'model            | val RMSE | test MAE | test RMSE | test AUC liked | test within 0.5 | fit s | grid s | chosen',
  );
  for (const r of results) {
    const chosen = Object.entries(r.params)
      .filter(([k]) => k !== 'mean' && k !== 'valRmse')
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : f(v, 3)}`)
      .join(' ');
    console.log(
      `${r.name.padEnd(16)} | ${f(r.val.rmse)}   | ${f(r.test.mae)}   | ${f(r.test.rmse)}    | ${f(r.test.aucLiked)}         | ${f(r.test.within05)}          | ${f(r.fitSeconds, 2).padStart(5)} | ${f(r.tuneSeconds, 2).padStart(6)} | ${chosen}`,
    );
  }
}

function run(name: string, raw: Raw, seed: number, k = 5): void {
  const t0 = Date.now();
  const { interactions, split, numItems } = build(raw, k);
  console.log(
    `${name}: ${raw.user.length} ratings, ${interactions.userOffsets.length - 2} users, ${numItems - 1} train items; ` +
      `train/val/test ${split.train.length}/${split.val.length}/${split.test.length}; build ${((Date.now() - t0) / 1000).toFixed(2)} s`,
  );
  const cpu0 = process.cpuUsage();
  const w0 = Date.now();
  const results = fitBaselines({ interactions, split, seed });
  const cpu = process.cpuUsage(cpu0);
  show(`${name} rating baselines (seed ${seed})`, results);
  console.log(
    `all grids: ${((Date.now() - w0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU ` +
      '(wall > CPU means other processes shared the cores)',
  );
  for (const r of results.filter((x) => x.trials.length > 1)) {
    const fmt = (p: Record<string, number>) =>
      Object.entries(p)
        .filter(([k]) => ['reg', 'factors', 'epochs', 'sweeps', 'weight', 'window', 'k', 'shrink'].includes(k))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
    console.log(`  ${r.name} grid (val RMSE): ${r.trials.map((t) => `${fmt(t.params)} ${f(t.valRmse)}`).join(' | ')}`);
  }
  const pop = popularityScorer(popularityScores({ interactions, positions: split.train, numItems }));
  for (const mode of ['sampled', 'full'] as const) {
    const t = Date.now();
    const r = evaluateRanking({ interactions, split, numItems, scorer: pop, mode, seed });
    console.log(
      `popularity ${mode.padEnd(7)}: HR@10 ${f(r.hitRate)} NDCG@10 ${f(r.ndcg)} over ${r.n} users ` +
        `(${f(r.negatives, 0)} negatives, ${r.unknownTargets} unknown targets, ${((Date.now() - t) / 1000).toFixed(2)} s)`,
    );
  }
}

const which = process.argv[2] ?? 'all';
if (which === 'all' || which === 'ml100k') run('ML-100k leave-last-5', readMl100k(), 0);
if (which === 'all' || which === 'ml100k-random') run('ML-100k random 72/8/20 (sanity check only)', readMl100k(), 0, 0);
if (which === 'all' || which === 'synthetic') run('synthetic ML-1M-sized', synthetic(6040, 3706, 1000209, 1), 0);
