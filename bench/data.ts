/**
 * Data pipeline benchmark: synthetic MovieLens of a given size -> load + encode + build every leave-last-k
 * sample (train, val and test) in batches. Prints wall times and peak RSS.
 *
 *   npx tsx bench/data.ts                                  # ML-1M size, ml-1m format, L=10, k=5
 *   npx tsx bench/data.ts --ratings 20000000 --format csv  # ML-20M size
 * Options: --ratings N, --format ml-1m|csv, --seqLen L, --k K, --batch B, --dir DIR (cache of generated files).
 */
import * as os from 'os';
import * as path from 'path';
import * as fs from 'fs';
import { generateSynthetic, loadMovieLens, prepareData, formatLoadReport } from '../lib/data';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : process.env[`BENCH_${name.toUpperCase()}`] ?? def;
}

const ratings = Number(arg('ratings', '1000209'));
const format = arg('format', ratings > 5e6 ? 'csv' : 'ml-1m') as 'ml-1m' | 'csv';
const seqLen = Number(arg('seqLen', '10'));
const k = Number(arg('k', '5'));
const batchSize = Number(arg('batch', '4096'));
const cache = arg('dir', path.join(os.tmpdir(), 'bst-bench-data'));
const dir = path.join(cache, `synthetic-${format}-${ratings}`);

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
if (!fs.existsSync(dir)) {
  const t = Date.now();
  const r = generateSynthetic({ dir, format, numRatings: ratings, seed: 7 });
  console.log(`generated ${r.numRatings} ratings, ${r.numUsers} users, ${r.numMovies} movies (${format}) in ${((Date.now() - t) / 1000).toFixed(1)} s -> ${dir}`);
}
const release = format === 'csv' ? 'ml-latest' : 'ml-1m';
const t0 = process.hrtime.bigint();
const sec = (a: bigint, b: bigint) => (Number(b - a) / 1e9).toFixed(2);
const ds = loadMovieLens({ dir, release });
const t1 = process.hrtime.bigint();
const prep = prepareData({ dataset: ds, seqLen, k });
const t2 = process.hrtime.bigint();
let samples = 0;
let checksum = 0;
for (const which of ['train', 'val', 'test'] as const) {
  for (const b of prep.batches(which, { batchSize, shuffle: which === 'train', seed: 1 })) {
    samples += b.n;
    checksum += b.itemSeq[b.itemSeq.length - 1];
  }
}
const t3 = process.hrtime.bigint();
console.log(formatLoadReport(ds.report));
console.log(`counts: users ${prep.counts.users}, train ${prep.counts.train}, val ${prep.counts.val}, test ${prep.counts.test}, train-only users ${prep.counts.usersTrainOnly}`);
console.log(`load ${sec(t0, t1)} s | encode+split ${sec(t1, t2)} s | build ${samples} samples (L=${seqLen}, batch ${batchSize}) ${sec(t2, t3)} s | total ${sec(t0, t3)} s (checksum ${checksum})`);
console.log(`peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}, heap used ${mb(process.memoryUsage().heapUsed)}`);
