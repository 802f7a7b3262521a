/**
 * The attention study (issue 14): does the BST's attention learn anything, and does it help?
 *
 * For each variant, one BST per seed is trained on the same leave-last-k split (early stopping on validation)
 * and reported with validation and test MAE / RMSE and the target row's attention (normalised entropy: 1 =
 * uniform; spread = largest - smallest weight). Each variant is paired with its ablation: the same model with
 * attention replaced by a masked mean (attentionScale = 0). "gain" = ablation's validation RMSE - the
 * model's: what attention adds. Variants are chosen on validation; test is printed for the record only.
 *
 * Data:
 *  - `ml-100k` (real, from $BST_DATA_DIR or ../shared/data);
 *  - `planted`: synthetic ml-1m-format data (lib/data/synthetic.ts) with a planted order-dependent signal: with
 *    probability BENCH_ECHO (default 0.5) a rating is replaced by the rating the same user gave ECHO_LAG (3)
 *    ratings earlier. Only a model that can single out the history slot 3 steps back can use it.
 *
 *   npx tsx bench/attention.ts                                   # both data sets, default variants
 *   BENCH_DATA=ml-100k BENCH_SEEDS=1,2 npx tsx bench/attention.ts
 *   BENCH_DATA=planted BENCH_RATINGS=1000000 BENCH_EPOCHS=3 ...  # ML-1M size
 *   BENCH_VARIANTS="paper;target:sequenceOutput=target" ...       # name:overrides;... (ablations are added)
 *   BENCH_OUT=results/attention.json                              # also write the rows as JSON
 *   npx tsx bench/attention.ts render results/attention/*.json    # the tables of saved runs
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as aq from 'arquero';
import { initBackend } from '../lib/kernels/backend';
import { Dataset, generateSynthetic, loadMovieLens } from '../lib/data/index';
import { attentionSummary, BstConfig, parseOverrides, resolveConfig } from '../lib/model/index';
import { prepareForRun, runExperiment, SplitOptions } from '../lib/app/experiment';
import { tunedBstConfig } from '../lib/app/benchmark';
import { writeJsonAtomic } from '../lib/util/files';
import { fitBaselines } from '../lib/eval/index';

const env = (k: string, d: string) => process.env[k] ?? d;
const DATA = env('BENCH_DATA', 'ml-100k,planted').split(',');
const SEEDS = env('BENCH_SEEDS', '1,2').split(',').map(Number);
const EPOCHS = process.env.BENCH_EPOCHS ? Number(process.env.BENCH_EPOCHS) : undefined;
const RATINGS = Number(env('BENCH_RATINGS', '200000'));
const ECHO = Number(env('BENCH_ECHO', '0.5'));
const ECHO_LAG = 3;
const K = Number(env('BENCH_K', '5'));
const VARIANTS = env(
  'BENCH_VARIANTS',
  'paper;target:sequenceOutput=target;target-time:sequenceOutput=target,positionKind=time;target-x4:sequenceOutput=target,attentionScale=4',
)
  .split(';')
  .map((v) => {
    const [name, over] = v.split(':');
    return { name, over: parseOverrides(over ?? '') };
  });

/** Plant the echo signal: per user in time order, rating t := rating t - ECHO_LAG with probability ECHO. */
function plantEcho(ds: Dataset, seed: number): Dataset {
  const user = ds.ratings.array('userId') as ArrayLike<number>;
  const movie = ds.ratings.array('movieId') as ArrayLike<number>;
  const ts = ds.ratings.array('timestamp') as ArrayLike<number>;
  const rating = Float32Array.from(ds.ratings.array('rating') as ArrayLike<number>);
  const order = Array.from({ length: rating.length }, (_, i) => i).sort(
    (a, b) => user[a] - user[b] || ts[a] - ts[b] || movie[a] - movie[b],
  );
  let s = seed >>> 0 || 1;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  let echoed = 0;
  for (let i = ECHO_LAG; i < order.length; i++) {
    const r = order[i];
    const prev = order[i - ECHO_LAG];
    if (user[prev] !== user[r]) continue;
    if (rand() < ECHO) {
      rating[r] = rating[prev];
      echoed++;
    }
  }
  console.log(
    `planted: ${echoed} of ${rating.length} ratings (${((100 * echoed) / rating.length).toFixed(1)}%) echo the rating ${ECHO_LAG} steps earlier`,
  );
  return { ...ds, ratings: ds.ratings.assign(aq.table({ rating })) };
}

function dataset(name: string): Dataset {
  if (name === 'ml-100k') {
    const root = process.env.BST_DATA_DIR ?? path.join(__dirname, '..', '..', 'shared', 'data');
    return loadMovieLens({ dir: path.join(root, 'ml-100k'), release: 'ml-100k' });
  }
  if (name === 'planted') {
    const dir = path.join(os.tmpdir(), `bst-attention-${RATINGS}`);
    if (!fs.existsSync(path.join(dir, 'ratings.dat')))
      generateSynthetic({ dir, format: 'ml-1m', numRatings: RATINGS, seed: 1 });
    return plantEcho(loadMovieLens({ dir, release: 'ml-1m' }), 7);
  }
  throw new Error(`unknown BENCH_DATA ${name}: use ml-100k or planted`);
}

interface Row {
  data: string;
  variant: string;
  seed: number;
  valMae: number;
  valRmse: number;
  testMae: number;
  testRmse: number;
  entropy: number;
  spread: number;
  bestEpoch: number;
  seconds: number;
}

const f4 = (x: number | undefined) => (x ?? NaN).toFixed(4);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One data set's rows as a Markdown table: baselines, then each variant (mean over seeds) beside its masked-mean ablation. */
export function studyTable(rows: Row[], data: string): string {
  const out = [
    `| ${data}: model | val MAE | val RMSE | gain from attention (val RMSE) | test MAE | test RMSE | target-row entropy | spread |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  const mine = rows.filter((r) => r.data === data);
  const cell = (rs: Row[], k: keyof Row) => f4(mean(rs.map((r) => r[k] as number)));
  for (const b of mine.filter((r) => r.variant.startsWith('baseline '))) {
    out.push(`| ${b.variant} | ${f4(b.valMae)} | ${f4(b.valRmse)} | | ${f4(b.testMae)} | ${f4(b.testRmse)} | | |`);
  }
  const variants = Array.from(
    new Set(mine.map((r) => r.variant).filter((v) => !v.startsWith('baseline ') && !v.endsWith(' / mean'))),
  );
  for (const v of variants) {
    const a = mine.filter((r) => r.variant === v);
    const m = mine.filter((r) => r.variant === `${v} / mean`);
    const gain = m.length ? mean(m.map((r) => r.valRmse)) - mean(a.map((r) => r.valRmse)) : NaN;
    for (const [label, rs] of [
      [`BST ${v}`, a],
      [`BST ${v} / masked mean`, m],
    ] as const) {
      if (rs.length === 0) continue;
      const g = label.endsWith('mean') ? '' : (gain >= 0 ? '+' : '') + f4(gain);
      out.push(
        `| ${label} (${rs.length} seed${rs.length > 1 ? 's' : ''}) | ${cell(rs, 'valMae')} | ${cell(rs, 'valRmse')} | ${g} | ${cell(rs, 'testMae')} | ${cell(rs, 'testRmse')} | ${cell(rs, 'entropy')} | ${cell(rs, 'spread')} |`,
      );
    }
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'render') {
    // npx tsx bench/attention.ts render a.json [b.json ...]: the tables of saved runs
    for (const file of process.argv.slice(3)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        rows: Row[];
        seeds: number[];
        epochs: number | null;
        ratings: number;
        echo: number;
      };
      for (const d of Array.from(new Set(saved.rows.map((r) => r.data)))) console.log(studyTable(saved.rows, d) + '\n');
    }
    return;
  }
  await initBackend();
  const rows: Row[] = [];
  for (const name of DATA) {
    const ds = dataset(name);
    const base: BstConfig = resolveConfig({ ...tunedBstConfig(), ...(EPOCHS ? { epochs: EPOCHS } : {}) });
    const split: SplitOptions = { protocol: 'leave-last-k', k: K, step: 2, seed: 42 };
    const data = prepareForRun(ds, split, base.seqLen, { log: null });
    console.log(
      `\n${name}: ${data.counts.train} train, ${data.counts.val} val, ${data.counts.test} test targets; L=${base.seqLen}`,
    );
    // the rating baselines on the same split (history-aware ones included), for scale
    for (const b of fitBaselines({
      interactions: data.interactions,
      split: data.split,
      seed: 1,
      seqLen: base.seqLen,
    })) {
      console.log(
        `  baseline ${b.name.padEnd(16)}: val MAE ${f4(b.val.mae)} RMSE ${f4(b.val.rmse)} | test MAE ${f4(b.test.mae)} RMSE ${f4(b.test.rmse)}`,
      );
      rows.push({
        data: name,
        variant: `baseline ${b.name}`,
        seed: 0,
        valMae: b.val.mae ?? NaN,
        valRmse: b.val.rmse ?? NaN,
        testMae: b.test.mae ?? NaN,
        testRmse: b.test.rmse ?? NaN,
        entropy: NaN,
        spread: NaN,
        bestEpoch: 0,
        seconds: b.fitSeconds,
      });
    }
    for (const v of VARIANTS) {
      for (const [label, scale] of [
        [v.name, undefined],
        [`${v.name} / mean`, 0],
      ] as const) {
        for (const seed of SEEDS) {
          const config = resolveConfig({
            ...base,
            ...v.over,
            ...(scale === undefined ? {} : { attentionScale: scale }),
            seed,
          });
          const r = await runExperiment({ dataset: ds, data, split, config, log: null, progress: false });
          const att = attentionSummary(r.model, data.batches('val', { batchSize: 512 }));
          const row: Row = {
            data: name,
            variant: label,
            seed,
            valMae: r.val.mae ?? NaN,
            valRmse: r.val.rmse ?? NaN,
            testMae: r.test.mae ?? NaN,
            testRmse: r.test.rmse ?? NaN,
            entropy: att.normalisedEntropy,
            spread: att.spread,
            bestEpoch: r.metrics.bestEpoch,
            seconds: r.trainSeconds,
          };
          r.model.net.dispose();
          rows.push(row);
          console.log(
            `  ${label.padEnd(22)} seed ${seed}: val MAE ${f4(row.valMae)} RMSE ${f4(row.valRmse)} | test MAE ${f4(row.testMae)} RMSE ${f4(row.testRmse)} | attention entropy ${f4(row.entropy)} spread ${f4(row.spread)} | epoch ${row.bestEpoch}, ${row.seconds.toFixed(0)} s`,
          );
        }
      }
    }
    console.log('\n' + studyTable(rows, name));
  }
  if (process.env.BENCH_OUT)
    writeJsonAtomic(process.env.BENCH_OUT, {
      seeds: SEEDS,
      epochs: EPOCHS ?? null,
      k: K,
      echo: ECHO,
      ratings: RATINGS,
      rows,
    });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
