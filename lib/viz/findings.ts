/**
 * Findings: the closing cell of every notebook. Each function turns one run's result objects into a few
 * sentences of markdown (every number computed, none typed) plus the key metrics behind them, which
 * `showFindings` embeds in the cell's output (`<script type="application/json" data-bst-metrics>`) so the
 * notebook tests can check an executed notebook's numbers within a tolerance.
 */
import type { Dataset } from '../data/load';
import type { Interactions } from '../data/types';
import type { PreparedData } from '../data/prepare';
import type { BaselineResult } from '../eval/fit-baselines';
import type { AttentionSummary } from '../model/attention-stats';
import type { BstConfig } from '../model/config';
import type { EvalMetrics } from '../model/metrics';
import { ConfigError } from '../util/errors';
import { kernelDisplay } from './display';
import { escapeHtml } from './html';
import type { LeakageReport } from './sequences';

/** A metric value recorded with the findings. */
export type MetricValue = number | string | boolean;

/** What a notebook found: markdown bullets and the metrics they rest on. */
export interface Findings {
  /** notebook name, e.g. "04_training" (the key the notebook tests use) */
  notebook: string;
  /** one sentence each, markdown (`code`, **bold**) */
  bullets: string[];
  /** key metrics, flat (name -> value) */
  metrics: Record<string, MetricValue>;
  /** the MovieLens release the numbers come from */
  dataset?: string;
}

/** What `showFindings` embeds: the findings' metrics, their dataset and the BST_PRESET of the run. */
export interface RecordedMetrics {
  notebook: string;
  dataset: string;
  preset: string;
  metrics: Record<string, MetricValue>;
}

/** `x` with `d` decimals; "n/a" for NaN / infinite values. */
function f(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : 'n/a';
}

/** A small step such as one user's share of HR@10 (1 / 6040 = 0.00017): two significant digits, never "0.000". */
function step(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(2)).toString() : 'n/a';
}

/** `share` (0..1) as a percentage with one decimal. */
function pct(share: number): string {
  return Number.isFinite(share) ? `${(100 * share).toFixed(1)}%` : 'n/a';
}

/** Markdown of findings: a heading and one bullet per finding. Pure. */
export function findingsMarkdown(fd: Findings): string {
  return [`### Findings (${fd.notebook})`, '', ...fd.bullets.map((b) => `- ${b}`)].join('\n');
}

/**
 * HTML of the markdown subset findings use (bullets, `code`, **bold**), plus the metrics as JSON
 * (`RecordedMetrics`; `preset` is the run's BST_PRESET, "" for none). Pure.
 */
export function findingsHtml(fd: Findings, preset = ''): string {
  const inline = (s: string) =>
    escapeHtml(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  const record: RecordedMetrics = { notebook: fd.notebook, dataset: fd.dataset ?? '', preset, metrics: fd.metrics };
  const json = JSON.stringify(record).replace(/</g, '\\u003c');
  return (
    `<div class="bst-findings"><h3>Findings</h3><ul>${fd.bullets.map((b) => `<li>${inline(b)}</li>`).join('')}</ul>` +
    `<script type="application/json" data-bst-metrics="${escapeHtml(fd.notebook)}">${json}</script></div>`
  );
}

/** Read the metrics `findingsHtml` embedded in an output's HTML (null when there are none). */
export function metricsFromHtml(html: string): RecordedMetrics | null {
  const m = /<script type="application\/json" data-bst-metrics="[^"]*">([\s\S]*?)<\/script>/.exec(html);
  return m ? (JSON.parse(m[1]) as RecordedMetrics) : null;
}

/** Show findings: HTML (with the embedded metrics) in a notebook, the markdown as text elsewhere. */
export function showFindings(fd: Findings, env: Record<string, string | undefined> = process.env): void {
  const d = kernelDisplay();
  if (d) d.html(findingsHtml(fd, env.BST_PRESET?.trim() ?? ''));
  else console.log(findingsMarkdown(fd) + '\n' + JSON.stringify(fd.metrics));
}

/** Consecutive ratings of one user (in time order) and how many of them share a timestamp or lie close. */
export interface TieStats {
  /** consecutive pairs (same user, adjacent in time) */
  pairs: number;
  /** pairs with equal timestamps */
  tied: number;
  /** pairs at most `withinSeconds` apart (ties included) */
  close: number;
  withinSeconds: number;
  tiedShare: number;
  closeShare: number;
}

/** Ties between consecutive ratings of the same user, from parallel user / timestamp columns (any order). */
export function consecutiveTies(user: ArrayLike<number>, timestamp: ArrayLike<number>, withinSeconds = 60): TieStats {
  if (user.length !== timestamp.length)
    throw new ConfigError(`consecutiveTies: ${user.length} users but ${timestamp.length} timestamps`);
  const idx = Array.from({ length: user.length }, (_, i) => i);
  idx.sort((a, b) => user[a] - user[b] || timestamp[a] - timestamp[b]);
  let pairs = 0;
  let tied = 0;
  let close = 0;
  for (let j = 1; j < idx.length; j++) {
    const a = idx[j - 1];
    const b = idx[j];
    if (user[a] !== user[b]) continue;
    pairs++;
    const dt = timestamp[b] - timestamp[a];
    if (dt === 0) tied++;
    if (dt <= withinSeconds) close++;
  }
  return {
    pairs,
    tied,
    close,
    withinSeconds,
    tiedShare: pairs ? tied / pairs : 0,
    closeShare: pairs ? close / pairs : 0,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** 01: the data's shape, sparsity, long tails and timestamp ties. */
export function exploreFindings(ds: Dataset): Findings {
  const userId = ds.ratings.array('userId') as ArrayLike<number>;
  const movieId = ds.ratings.array('movieId') as ArrayLike<number>;
  const ts = ds.ratings.array('timestamp') as ArrayLike<number>;
  const perUser = new Map<number, number>();
  const perMovie = new Map<number, number>();
  for (let i = 0; i < userId.length; i++) {
    perUser.set(userId[i], (perUser.get(userId[i]) ?? 0) + 1);
    perMovie.set(movieId[i], (perMovie.get(movieId[i]) ?? 0) + 1);
  }
  const n = userId.length;
  const density = n / (perUser.size * perMovie.size);
  const movieCounts = [...perMovie.values()];
  const fewMovies = movieCounts.filter((c) => c < 10).length / movieCounts.length;
  const sorted = [...movieCounts].sort((a, b) => b - a);
  const top10 = sorted.slice(0, Math.max(1, Math.ceil(sorted.length / 10))).reduce((a, c) => a + c, 0) / n;
  const ties = consecutiveTies(userId, ts);
  return {
    notebook: '01_explore',
    bullets: [
      `**Shape**: ${n.toLocaleString('en')} ratings by ${perUser.size.toLocaleString('en')} users of ${perMovie.size.toLocaleString('en')} movies (${ds.release}).`,
      `**Sparsity**: ${pct(1 - density)} of the user x movie matrix is empty (density ${density.toPrecision(3)}); a median user rated ${median([...perUser.values()])} movies, a median movie has ${median(movieCounts)} ratings.`,
      `**Long tail**: the 10% most rated movies collect ${pct(top10)} of all ratings; ${pct(fewMovies)} of the movies have fewer than 10.`,
      `**Ties in time**: ${pct(ties.tiedShare)} of consecutive ratings of the same user share their timestamp (${pct(ties.closeShare)} lie within ${ties.withinSeconds} s): ` +
        `the order inside such a burst is not observed, so a "sequence" partly orders ratings made at once.`,
    ],
    dataset: ds.release,
    metrics: {
      ratings: n,
      users: perUser.size,
      movies: perMovie.size,
      density,
      top10MovieShare: top10,
      tiedConsecutiveShare: ties.tiedShare,
      closeConsecutiveShare: ties.closeShare,
    },
  };
}

/** Ties between consecutive ratings of prepared interactions (already grouped by user in time order). */
function interactionTies(it: Interactions): TieStats {
  return consecutiveTies(it.user, it.timestamp);
}

/** 02: how long the histories are at L, ties among them, and what the legacy protocol leaks. */
export function sequenceFindings(o: { data: PreparedData; leaks: LeakageReport[]; dataset?: string }): Findings {
  const { data } = o;
  const it = data.interactions;
  const off = it.userOffsets;
  const L = data.seqLen;
  const lengths: number[] = [];
  for (let u = 1; u < off.length; u++) lengths.push(off[u] - off[u - 1]);
  const test = data.positions('test');
  let full = 0;
  let tiedTargets = 0;
  for (let i = 0; i < test.length; i++) {
    const p = test[i];
    const start = off[it.user[p]];
    if (p - start >= L - 1) full++;
    if (p > start && it.timestamp[p] === it.timestamp[p - 1]) tiedTargets++;
  }
  const ties = interactionTies(it);
  const fullShare = test.length ? full / test.length : 0;
  const tiedTargetShare = test.length ? tiedTargets / test.length : 0;
  const bullets = [
    `**History length**: a median user has ${median(lengths.filter((x) => x > 0))} ratings; ${pct(fullShare)} of the test targets have a full history of L - 1 = ${L - 1} ratings, the rest are left-padded.`,
    `**Ties**: ${pct(ties.tiedShare)} of consecutive ratings share a timestamp, and ${pct(tiedTargetShare)} of the test targets were made in the same second as the rating before them, so "the last rating" is partly an arbitrary pick among a burst.`,
  ];
  const metrics: Record<string, MetricValue> = {
    seqLen: L,
    fullHistoryTestShare: fullShare,
    tiedConsecutiveShare: ties.tiedShare,
    tiedTestTargetShare: tiedTargetShare,
  };
  for (const l of o.leaks) {
    bullets.push(
      `**${l.protocol}**: ${pct(l.shareTargetInTrain)} of its ${l.testTargets.toLocaleString('en')} test targets lie inside a training window and ${pct(l.shareTrainSeesLater)} have training windows reaching past them in time` +
        (l.shareTargetInTrain > 0 ? ' -- a leak: its test error is optimistic.' : ' -- no leak.'),
    );
    metrics[`${l.protocol}.shareTargetInTrain`] = l.shareTargetInTrain;
  }
  return { notebook: '02_sequences', bullets, metrics, dataset: o.dataset };
}

/** 03: the parameter budget, what an untrained attention map shows, and what the ablation switches mean. */
export function modelFindings(o: {
  counts: { total: number; trainable: number; byGroup: Array<{ group: string; params: number }> };
  config: BstConfig;
  attention: number[][];
  dataset?: string;
}): Findings {
  const { counts, config } = o;
  const top = counts.byGroup.slice(0, 2);
  const real = o.attention.flat().filter((w) => w > 0);
  const lo = Math.min(...real);
  const hi = Math.max(...real);
  const bullets = [
    `**Size**: ${counts.total.toLocaleString('en')} parameters (${counts.trainable.toLocaleString('en')} trainable); the largest groups are ` +
      top.map((g) => `\`${g.group}\` (${pct(g.params / counts.total)})`).join(' and ') +
      '.',
    `**Untrained attention** ranges from ${f(lo, 4)} to ${f(hi, 4)} across the shown sample's real slots: any pattern in the heatmap is initialisation noise.`,
    config.sequenceOutput === 'flatten'
      ? `**What the ablation means**: with \`sequenceOutput: 'flatten'\` the MLP reads every slot's output, so it can use the history without attention; ` +
        `replacing attention by a masked mean (\`attentionScale: 0\`) and scoring both is the test of whether attention adds anything (notebook 04 and the README's attention study).`
      : `**What the ablation means**: with \`sequenceOutput: '${config.sequenceOutput}'\` the head sees the history only through attention, so \`attentionScale: 0\` (a masked mean) measures what attention's weighting adds.`,
  ];
  return {
    notebook: '03_model',
    dataset: o.dataset,
    bullets,
    metrics: {
      parameters: counts.total,
      trainable: counts.trainable,
      untrainedAttentionMin: lo,
      untrainedAttentionMax: hi,
      sequenceOutput: config.sequenceOutput,
    },
  };
}

/** The baseline with the lowest validation RMSE (the one a practitioner would pick), optionally among `names`. */
export function strongestBaseline(baselines: BaselineResult[], names?: string[]): BaselineResult {
  const pool = names ? baselines.filter((b) => names.includes(b.name)) : baselines;
  if (pool.length === 0)
    throw new ConfigError(
      `strongestBaseline: no baseline among [${baselines.map((b) => b.name)}]${names ? ` named [${names}]` : ''}`,
    );
  return pool.reduce((a, b) => ((b.val.rmse ?? Infinity) < (a.val.rmse ?? Infinity) ? b : a));
}

/** Names of the baselines that read the user's history (lib/eval/history-baselines.ts). */
export const HISTORY_BASELINES = ['history-blend', 'item-knn'];

/** "wins by 0.012 (1.3%)" / "loses by ..." / "ties" for an error metric (lower is better). */
export function compareError(model: number, reference: number): { verdict: 'win' | 'loss' | 'tie'; text: string } {
  const d = reference - model;
  if (Math.abs(d) < 5e-4) return { verdict: 'tie', text: `ties (${f(model, 4)} vs ${f(reference, 4)})` };
  const rel = Math.abs(d) / reference;
  return d > 0
    ? { verdict: 'win', text: `wins by ${f(d, 4)} (${pct(rel)}: ${f(model, 4)} vs ${f(reference, 4)})` }
    : { verdict: 'loss', text: `loses by ${f(-d, 4)} (${pct(rel)}: ${f(model, 4)} vs ${f(reference, 4)})` };
}

/** 04: the trained BST against the strongest baseline on the same split, and how uniform attention stayed. */
export function trainingFindings(o: {
  test: EvalMetrics;
  val: EvalMetrics;
  epochsRun: number;
  bestEpoch: number;
  baselines: BaselineResult[];
  attention: AttentionSummary;
  dataset: string;
}): Findings {
  const best = strongestBaseline(o.baselines);
  const bias = o.baselines.find((b) => b.name === 'user-item-bias');
  const rmse = o.test.rmse ?? NaN;
  const mae = o.test.mae ?? NaN;
  const cr = compareError(rmse, best.test.rmse ?? NaN);
  const cm = compareError(mae, best.test.mae ?? NaN);
  const uniform = o.attention.normalisedEntropy > 0.99;
  const bullets = [
    `**BST vs the strongest baseline** (\`${best.name}\`, lowest validation RMSE) on the same ${o.dataset} test targets: the BST ${cr.text} in RMSE and ${cm.text} in MAE.`,
    ...(bias && bias !== best
      ? [`Against \`user-item-bias\` the BST ${compareError(rmse, bias.test.rmse ?? NaN).text} in RMSE.`]
      : []),
    `**Training**: ${o.epochsRun} epoch(s), best epoch ${o.bestEpoch}${o.bestEpoch === o.epochsRun ? ' (the last: more epochs may still help)' : ' (early stopping found its minimum)'}.`,
    `**Attention**: normalised entropy of the target row ${f(o.attention.normalisedEntropy, 4)} (1 = uniform), largest weight ${f(o.attention.peakOverUniform, 3)} x uniform: ` +
      (uniform
        ? 'near uniform, so the heatmap explains nothing about which history items matter.'
        : 'the target singles out some history slots.'),
  ];
  return {
    notebook: '04_training',
    dataset: o.dataset,
    bullets,
    metrics: {
      bstTestRmse: rmse,
      bstTestMae: mae,
      bstValRmse: o.val.rmse ?? NaN,
      strongestBaseline: best.name,
      strongestBaselineTestRmse: best.test.rmse ?? NaN,
      strongestBaselineTestMae: best.test.mae ?? NaN,
      userItemBiasTestRmse: bias?.test.rmse ?? NaN,
      verdictRmse: cr.verdict,
      attentionEntropy: o.attention.normalisedEntropy,
      epochsRun: o.epochsRun,
    },
  };
}

/** One ranked-list model of notebook 06. */
export interface RankingRow {
  model: string;
  /** true for the BST heads, false for baselines */
  bst: boolean;
  sampledHitRate: number;
  fullHitRate: number;
  sampledNdcg: number;
  fullNdcg: number;
}

/** 06: the recommender's HR@10 against the baselines, with and without sampled negatives. */
export function recommendFindings(o: { rows: RankingRow[]; users: number; k: number; dataset: string }): Findings {
  const bsts = o.rows.filter((r) => r.bst);
  const bases = o.rows.filter((r) => !r.bst);
  if (bsts.length === 0 || bases.length === 0)
    throw new ConfigError(`recommendFindings: need BST and baseline rows, got [${o.rows.map((r) => r.model)}]`);
  const bestOf = (rows: RankingRow[], key: 'sampledHitRate' | 'fullHitRate') =>
    rows.reduce((a, b) => (b[key] > a[key] ? b : a));
  const line = (key: 'sampledHitRate' | 'fullHitRate', what: string) => {
    const m = bestOf(bsts, key);
    const b = bestOf(bases, key);
    const d = m[key] - b[key];
    return {
      m,
      b,
      text:
        `**HR@${o.k} (${what})**: the best BST head (${m.model}) ${f(m[key], 3)} vs the best baseline (${b.model}) ${f(b[key], 3)}: ` +
        (Math.abs(d) < 1e-9 ? 'a tie.' : d > 0 ? `the BST wins by ${f(d, 3)}.` : `the BST **loses** by ${f(-d, 3)}.`),
    };
  };
  const s = line('sampledHitRate', '100 sampled negatives');
  const full = line('fullHitRate', 'full catalogue');
  const pop = o.rows.find((r) => /popularity/i.test(r.model));
  const metrics: Record<string, MetricValue> = {
    users: o.users,
    bstBestSampledHr: s.m.sampledHitRate,
    bstBestFullHr: full.m.fullHitRate,
    baselineBestSampledHr: s.b.sampledHitRate,
    baselineBestFullHr: full.b.fullHitRate,
  };
  if (pop) {
    metrics.popularitySampledHr = pop.sampledHitRate;
    metrics.popularityFullHr = pop.fullHitRate;
  }
  for (const r of o.rows) metrics[`${r.model}.sampledHr`] = r.sampledHitRate;
  return {
    notebook: '06_recommend',
    dataset: o.dataset,
    bullets: [
      s.text,
      full.text,
      `Measured on ${o.users} users of ${o.dataset}; with so few users one hit moves HR@${o.k} by ${step(1 / Math.max(1, o.users))}, so differences below that are noise.`,
    ],
    metrics,
  };
}

/** One model of notebook 07: a stable key for the recorded metrics, its display name and its test metrics. */
export interface RetrievalModelRow {
  /** metric key prefix, e.g. "popularity", "itemKnn", "sasrec", "twoTower", "pipeline" */
  key: string;
  model: string;
  /** baselines and retrievers feed the pipeline; the pipeline is retrieval -> ranking */
  kind: 'baseline' | 'retriever' | 'pipeline';
  test: { hr10: number; ndcg10: number; mrr10: number; coverage10: number };
}

/** Inputs of `retrievalFindings`. */
export interface RetrievalFindingsInput {
  rows: RetrievalModelRow[];
  /** test recall@M per retriever key (M -> recall) */
  recall: Record<string, Record<number, number>>;
  /** the re-rank's curve (lambda 1 = plain top-10) */
  rerank: Array<{ lambda: number; hr: number; coverage: number; diversity: number }>;
  /** the validation-chosen pipeline setting and the retriever it runs on */
  setting: { m: number; weight: number; retriever: string };
  /** test cases (users) */
  cases: number;
  dataset: string;
}

/** 07: which model wins the next-item protocol, what recall the retrievers reach, what the diversity re-rank costs. */
export function retrievalFindings(o: RetrievalFindingsInput): Findings {
  const pipe = o.rows.find((r) => r.kind === 'pipeline');
  const singles = o.rows.filter((r) => r.kind !== 'pipeline');
  if (!pipe || singles.length === 0)
    throw new ConfigError(
      `retrievalFindings: need a pipeline row and single models, got [${o.rows.map((r) => `${r.key}:${r.kind}`)}]`,
    );
  if (o.rerank.length === 0) throw new ConfigError('retrievalFindings: the re-rank curve is empty');
  const best = singles.reduce((a, b) => (b.test.hr10 > a.test.hr10 ? b : a));
  const d = pipe.test.hr10 - best.test.hr10;
  const noise = 1 / Math.max(1, o.cases);
  const bullets: string[] = [];
  const how =
    o.setting.weight >= 1
      ? `validation kept the retriever's own order (BST ranking of its top ${o.setting.m} did not gain enough NDCG@10 on validation)`
      : `validation chose M=${o.setting.m}${o.setting.weight > 0 ? `, blend weight ${o.setting.weight}` : ', BST order alone'}`;
  bullets.push(
    `**Pipeline** (retrieval by ${o.setting.retriever} → BST ranking; ${how}): test HR@10 ${f(pipe.test.hr10)}, NDCG@10 ${f(pipe.test.ndcg10)} vs the best single model ` +
      `(${best.model}) ${f(best.test.hr10)}: ` +
      (Math.abs(d) < noise ? 'within one user of it, a tie.' : d > 0 ? `ahead by ${f(d)}.` : `**behind** by ${f(-d)}.`),
  );
  const pop = o.rows.find((r) => r.key === 'popularity');
  const knn = o.rows.find((r) => r.key === 'itemKnn');
  if (pop && knn)
    bullets.push(
      `History matters: item-KNN reaches HR@10 ${f(knn.test.hr10)} against popularity's ${f(pop.test.hr10)} (${f(knn.test.hr10 / Math.max(pop.test.hr10, 1e-9), 1)}x).`,
    );
  const metrics: Record<string, MetricValue> = {
    cases: o.cases,
    bestSingleModel: best.key,
    bestSingleHr10: best.test.hr10,
    pipelineMinusBestHr10: d,
    pipelineM: o.setting.m,
    pipelineWeight: o.setting.weight,
  };
  for (const r of o.rows) {
    metrics[`${r.key}.hr10`] = r.test.hr10;
    metrics[`${r.key}.ndcg10`] = r.test.ndcg10;
    metrics[`${r.key}.coverage10`] = r.test.coverage10;
  }
  const rec = Object.entries(o.recall).filter(([, r]) => r[100] !== undefined);
  if (rec.length > 0) {
    const [key, r] = rec.reduce((a, b) => (b[1][100] > a[1][100] ? b : a));
    bullets.push(
      `Best recall@100 on test: ${key} ${f(r[100])} (the target is among the ${100} candidates handed to the ranker for ${pct(r[100])} of users; the ranker cannot recover the rest).`,
    );
    for (const [k, v] of rec) metrics[`${k}.recall100`] = v[100];
    metrics.bestRecall100 = r[100];
  }
  const top = o.rerank.reduce((a, b) => (b.lambda > a.lambda ? b : a));
  const low = o.rerank.reduce((a, b) => (b.lambda < a.lambda ? b : a));
  bullets.push(
    `Diversity re-rank (MMR over genres) from λ ${top.lambda} to λ ${low.lambda}: HR@10 ${f(top.hr)} → ${f(low.hr)}, catalogue coverage ${pct(top.coverage)} → ${pct(low.coverage)}, ` +
      `intra-list diversity ${f(top.diversity)} → ${f(low.diversity)}.`,
  );
  Object.assign(metrics, {
    rerankTopHr10: top.hr,
    rerankLowHr10: low.hr,
    rerankTopDiversity: top.diversity,
    rerankLowDiversity: low.diversity,
    rerankTopCoverage: top.coverage,
    rerankLowCoverage: low.coverage,
  });
  bullets.push(
    `${o.cases} test users of ${o.dataset}: one user moves HR@10 by ${step(noise)}, so smaller differences are noise.`,
  );
  return { notebook: '07_retrieval', dataset: o.dataset, bullets, metrics };
}
