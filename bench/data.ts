/**
 * Data pipeline benchmark: synthetic MovieLens of a given size -> load + encode + build every leave-last-k
 * sample (train shuffled, val and test in order) in batches. Prints wall and CPU times, ns per rating and peak RSS.
 *
 *   npx tsx bench/data.ts                                  # ML-1M size, ml-1m format, L=10, k=5
 *   npx tsx bench/data.ts --ratings 20000000 --format csv  # ML-20M size
 *   npx tsx bench/data.ts --sizes 1000000,5000000,20000000 # linearity table: one child process per size
 *                                                          # (own peak RSS each); csv format unless --format
 *   npx tsx bench/data.ts --shuffleBlock 1 --shuffleWindow 1000000000   # full Fisher-Yates shuffle (the old order)
 * Options: --ratings N, --sizes N,N,..., --format ml-1m|csv, --seqLen L, --k K, --batch B, --reuse (reuse batch
 * buffers), --shuffleBlock C, --shuffleWindow W, --dir DIR (cache of generated files; default
 * os.tmpdir()/bst-bench-data). Each option can also come from env BENCH_<NAME> (e.g. BENCH_RATINGS).
 * CPU time (process.cpuUsage, user + system) is printed next to wall time: it is less disturbed by other
 * processes on a shared machine, though memory-bound phases still slow down when others share the cache.
 */
import * as os from 'os';
import * as path from 'path';
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { generateSynthetic, loadMovieLens, prepareData, formatLoadReport } from '../lib/data';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined && !process.argv[i + 1].startsWith('--')) return process.argv[i + 1];
  if (i >= 0) return 'true';
  return process.env[`BENCH_${name.toUpperCase()}`] ?? def;
}

/** Measurements of one size (printed by a child as one JSON line after RESULT_TAG). */
interface Result {
  ratings: number;
  format: string;
  samples: number;
  /** [wall s, cpu s] per phase */
  load: [number, number];
  encode: [number, number];
  build: [number, number];
  total: [number, number];
  peakRssMB: number;
  checksum: number;
}
const RESULT_TAG = 'BENCH_RESULT ';

const seqLen = Number(arg('seqLen', '10'));
const k = Number(arg('k', '5'));
const batchSize = Number(arg('batch', '4096'));
const reuse = arg('reuse', 'false') === 'true';
const shuffleBlock = arg('shuffleBlock', '') === '' ? undefined : Number(arg('shuffleBlock', ''));
const shuffleWindow = arg('shuffleWindow', '') === '' ? undefined : Number(arg('shuffleWindow', ''));
const cache = arg('dir', path.join(os.tmpdir(), 'bst-bench-data'));
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

/** Generate (once, cached) and measure one size in this process. */
function runOne(ratings: number, format: 'ml-1m' | 'csv'): Result {
  const dir = path.join(cache, `synthetic-${format}-${ratings}`);
  if (!fs.existsSync(dir)) {
    const t = Date.now();
    const r = generateSynthetic({ dir, format, numRatings: ratings, seed: 7 });
    console.log(
      `generated ${r.numRatings} ratings, ${r.numUsers} users, ${r.numMovies} movies (${format}) in ${((Date.now() - t) / 1000).toFixed(1)} s -> ${dir}`,
    );
  }
  const release = format === 'csv' ? 'ml-latest' : 'ml-1m';
  const clock = () => ({ wall: process.hrtime.bigint(), cpu: process.cpuUsage() });
  const phase = (a: ReturnType<typeof clock>, b: ReturnType<typeof clock>): [number, number] => [
    Number(b.wall - a.wall) / 1e9,
    (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1e6,
  ];
  const c0 = clock();
  const ds = loadMovieLens({ dir, release });
  const c1 = clock();
  const prep = prepareData({ dataset: ds, seqLen, k });
  const c2 = clock();
  let samples = 0;
  let checksum = 0;
  for (const which of ['train', 'val', 'test'] as const) {
    const opts = { batchSize, shuffle: which === 'train', seed: 1, shuffleBlock, shuffleWindow, reuseBuffers: reuse };
    for (const b of prep.batches(which, opts)) {
      samples += b.n;
      checksum += b.itemSeq[b.itemSeq.length - 1];
    }
  }
  const c3 = clock();
  console.log(formatLoadReport(ds.report));
  console.log(
    `counts: users ${prep.counts.users}, train ${prep.counts.train}, val ${prep.counts.val}, test ${prep.counts.test}, train-only users ${prep.counts.usersTrainOnly}`,
  );
  return {
    ratings: ds.ratings.numRows(),
    format,
    samples,
    load: phase(c0, c1),
    encode: phase(c1, c2),
    build: phase(c2, c3),
    total: phase(c0, c3),
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1048576,
    checksum,
  };
}

const f2 = (x: number) => x.toFixed(2);
const loadAvg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const shuffleText = `shuffle block ${shuffleBlock ?? 'default'}, window ${shuffleWindow ?? 'default'}${reuse ? ', reused buffers' : ''}`;

const sizesArg = arg('sizes', '');
if (process.env.BENCH_CHILD === '1' || sizesArg === '') {
  const ratings = Number(arg('ratings', '1000209'));
  const format = arg('format', ratings > 5e6 ? 'csv' : 'ml-1m') as 'ml-1m' | 'csv';
  const r = runOne(ratings, format);
  if (process.env.BENCH_CHILD === '1') {
    console.log(RESULT_TAG + JSON.stringify(r));
  } else {
    const wc = (x: [number, number]) => `${f2(x[0])} s (cpu ${f2(x[1])} s)`;
    console.log(
      `load ${wc(r.load)} | encode+split ${wc(r.encode)} | build ${r.samples} samples (L=${seqLen}, batch ${batchSize}, ${shuffleText}) ${wc(r.build)} | total ${wc(r.total)} (checksum ${r.checksum})`,
    );
    console.log(
      `peak RSS ${mb(r.peakRssMB * 1048576)}, heap used ${mb(process.memoryUsage().heapUsed)}; load average ${loadAvg()}`,
    );
  }
} else {
  // one child process per size (same node flags, hence the same tsx loader), so peak RSS is per size
  const sizes = sizesArg.split(',').map((s) => Number(s.trim()));
  for (const s of sizes)
    if (!Number.isInteger(s) || s < 1)
      throw new Error(`--sizes: bad size ${JSON.stringify(s)} in ${JSON.stringify(sizesArg)}`);
  const format = arg('format', 'csv');
  const passOn = process.argv
    .slice(2)
    .filter(
      (a, i, all) =>
        !(
          a === '--sizes' ||
          all[i - 1] === '--sizes' ||
          a === '--ratings' ||
          all[i - 1] === '--ratings' ||
          a === '--format' ||
          all[i - 1] === '--format'
        ),
    );
  const rows: Result[] = [];
  for (const s of sizes) {
    const before = loadAvg();
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, ...passOn, '--ratings', String(s), '--format', format],
      {
        env: { ...process.env, BENCH_CHILD: '1' },
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    );
    const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_TAG));
    if (child.status !== 0 || !line) {
      process.stderr.write(child.stdout ?? '');
      process.stderr.write(child.stderr ?? '');
      throw new Error(`bench child for --ratings ${s} failed (exit ${child.status})`);
    }
    const r = JSON.parse(line.slice(RESULT_TAG.length)) as Result;
    rows.push(r);
    console.log(
      `${s} ratings done: total ${f2(r.total[0])} s wall, ${f2(r.total[1])} s cpu; load average before ${before}, after ${loadAvg()}`,
    );
  }
  const ns = (sec: number, n: number) => ((sec * 1e9) / n).toFixed(0);
  console.log(
    `\nL=${seqLen}, k=${k}, batch ${batchSize}, format ${format}, ${shuffleText}; seconds as wall / cpu; ns per rating from cpu time`,
  );
  const head = [
    'ratings',
    'load s',
    'encode+split s',
    'build s',
    'total s',
    'ns/rating load',
    'encode',
    'build',
    'total',
    'peak RSS MB',
  ];
  const body = rows.map((r) => [
    String(r.ratings),
    `${f2(r.load[0])} / ${f2(r.load[1])}`,
    `${f2(r.encode[0])} / ${f2(r.encode[1])}`,
    `${f2(r.build[0])} / ${f2(r.build[1])}`,
    `${f2(r.total[0])} / ${f2(r.total[1])}`,
    ns(r.load[1], r.ratings),
    ns(r.encode[1], r.ratings),
    ns(r.build[1], r.ratings),
    ns(r.total[1], r.ratings),
    r.peakRssMB.toFixed(0),
  ]);
  const w = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const fmt = (cells: string[]) => '| ' + cells.map((x, c) => x.padStart(w[c])).join(' | ') + ' |';
  console.log(fmt(head));
  console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
  for (const b of body) console.log(fmt(b));
}
