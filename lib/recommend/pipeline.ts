/**
 * Retrieval -> BST ranking, the BST paper's setting: a retriever (the SASRec-style model of lib/seqrec, item-KNN
 * or popularity; later the two-tower model of lib/retrieval) hands over its top M unseen movies, the BST (like
 * head, trained on the retriever's candidates as hard negatives, see rank-train.ts) scores them, and the list is
 * the BST's order, optionally blended with the retriever's rank:
 *
 *   score = (1 - w) * z(BST logit) + w * z(-ln(1 + retriever rank))     (z: standardised over the M candidates)
 *
 * w = 0 is the BST alone, w = 1 the retriever alone. Evaluation follows lib/eval/next-item (leave-one-out, full
 * ranking, seen movies excluded, target kept, pessimistic ties): movies outside the retrieved M score below every
 * retrieved one (all equal, so a target outside M ranks behind every other non-retrieved movie as well).
 *
 * Item indices: the BST's item vocabulary (PreparedData, leave-last-k k=1) and the next-item split's catalogue
 * are both the ascending movie ids of the training part, so one index means one movie in both;
 * `checkLooCompatible` verifies this, and that every case's target and input are the BST's held-out position and
 * history.
 */
import { PreparedData } from '../data/index';
import { NextItemCase, NextItemScorer, NextItemSplit } from '../eval/next-item';
import { BstModel } from '../model/index';
import { Retriever } from '../retrieval/types';
import { ConfigError, DataError } from '../util/errors';
import { heldOutCut, HistoryCut } from './candidates';
import { exactScores } from './two-stage';

/**
 * Check that the BST data (leave-last-k, k=1) and a leave-one-out split agree: same item catalogue (index i is
 * the same movie), and each case's target and input are the BST's held-out position and the history before it.
 * Returns the BST position of every case of the phase; throws a DataError naming the first disagreement.
 */
export function checkLooCompatible(data: PreparedData, split: NextItemSplit, phase: 'val' | 'test'): Int32Array {
  if (split.protocol !== 'leave-one-out')
    throw new DataError(`checkLooCompatible: the split's protocol is ${split.protocol}, not leave-one-out`);
  const ids = data.vocabs.item.values as number[];
  if (ids.length !== split.numItems - 1)
    throw new DataError(
      `checkLooCompatible: the BST knows ${ids.length} movies, the leave-one-out catalogue ${split.numItems - 1}`,
    );
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== split.itemIds[i + 1])
      throw new DataError(
        `checkLooCompatible: item index ${i + 1} is movie ${ids[i]} for the BST but ${split.itemIds[i + 1]} in the split`,
      );
  }
  const it = data.interactions;
  const posOf = new Map<number, number>();
  for (const p of data.positions(phase)) posOf.set(it.user[p], p);
  const cases = split[phase].cases;
  const out = new Int32Array(cases.length);
  cases.forEach((c, r) => {
    const u = data.vocabs.user.index(c.user);
    const p = posOf.get(u);
    if (u <= 0 || p === undefined)
      throw new DataError(
        `checkLooCompatible: user ${c.user} has a ${phase} case but no ${phase} position in the BST data`,
      );
    if (it.item[p] !== c.target)
      throw new DataError(
        `checkLooCompatible: user ${c.user}'s ${phase} target is item ${c.target} in the split but ${it.item[p]} in the BST data`,
      );
    const hist: number[] = [];
    for (let q = it.userOffsets[u]; q < p; q++) if (it.item[q] > 0) hist.push(it.item[q]);
    if (hist.length !== c.input.length || hist.some((x, i) => x !== c.input[i])) {
      throw new DataError(
        `checkLooCompatible: user ${c.user}'s ${phase} input differs (split ${c.input.length} items, BST history ${hist.length})`,
      );
    }
    out[r] = p;
  });
  return out;
}

/** Per case: the retriever's top M (best first) and the ranker's logit of each. */
export interface PipelineCandidates {
  /** the held-out cases, in order (their `input` arrays are the evaluation's identity check) */
  cases: NextItemCase[];
  /** per case: retrieved item indices, best first */
  items: Int32Array[];
  /** per case: the BST's score (logit) of each retrieved item, aligned with items */
  ranker: Float32Array[];
}

/** A probability as a logit (clamped to [1e-7, 1 - 1e-7]): blending needs an unbounded scale. */
function logit(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

/** Options of `bstCandidateScores`. */
export interface BstCandidateOptions {
  model: BstModel;
  data: PreparedData;
  /** the BST position of each case (checkLooCompatible) */
  positions: Int32Array;
  /** retrieved items per case */
  items: Int32Array[];
  /** like head: the probability is turned into a logit (default true for task 'like') */
  asLogit?: boolean;
}

/** The BST's scores of each case's retrieved items, from the history before its held-out position at its time. */
export function bstCandidateScores(o: BstCandidateOptions): Float32Array[] {
  const toLogit = o.asLogit ?? o.model.config.task === 'like';
  return o.items.map((items, r) => {
    const s = exactScores(o.model, o.data, heldOutCut(o.data, o.positions[r]), items);
    return toLogit ? s.map(logit) : s;
  });
}

/** Mean and standard deviation (population; 1 when 0) of the first n values. */
function zStats(x: ArrayLike<number>, n: number): [number, number] {
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= Math.max(1, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - m) ** 2;
  const sd = Math.sqrt(v / Math.max(1, n));
  return [m, sd > 0 ? sd : 1];
}

/**
 * Pipeline scores of the first `m` retrieved items: (1 - w) z(ranker) + w z(-ln(1 + rank)), standardised over
 * those m (see the module comment). Returns Float32Array [min(m, items)].
 */
export function blendScores(ranker: ArrayLike<number>, m: number, weight: number): Float32Array {
  if (!(weight >= 0 && weight <= 1)) throw new ConfigError(`blend weight must be in [0, 1], got ${weight}`);
  const n = Math.min(m, ranker.length);
  const rr = Float32Array.from({ length: n }, (_, i) => -Math.log(2 + i)); // rank i + 1 -> -ln(1 + rank)
  const [mb, sb] = zStats(ranker, n);
  const [mr, sr] = zStats(rr, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - weight) * ((ranker[i] - mb) / sb) + weight * ((rr[i] - mr) / sr);
  return out;
}

/** Settings of a pipeline list: how many retrieved candidates the ranker sees, and the blend weight. */
export interface PipelineSetting {
  m: number;
  /** weight of the retriever's rank in [0, 1] (0 = BST order) */
  weight: number;
}

/** The score of every catalogue item that was not retrieved: below any pipeline score, finite (metrics stay NaN-free), exact in float32. */
export const NOT_RETRIEVED = Math.fround(-1e30);

/**
 * A NextItemScorer (for evaluateNextItem on `cand.cases`, in order) giving each case's retrieved top `m` their
 * pipeline scores and every other item NOT_RETRIEVED. Throws a ConfigError when called with inputs that are not
 * the cases' own, in order (the scorer follows the evaluation's case order).
 */
export function pipelineScorer(cand: PipelineCandidates, numItems: number, s: PipelineSetting): NextItemScorer {
  let cursor = 0;
  return (inputs) => {
    const out = new Float32Array(inputs.length * numItems).fill(NOT_RETRIEVED);
    inputs.forEach((inp, r) => {
      const c = cursor + r;
      if (c >= cand.cases.length || cand.cases[c].input !== inp)
        throw new ConfigError(
          `pipelineScorer: input ${c} is not case ${c}'s input (evaluate the candidates' own cases, in order)`,
        );
      const items = cand.items[c];
      const sc = blendScores(cand.ranker[c], s.m, s.weight);
      for (let i = 0; i < sc.length; i++) out[r * numItems + items[i]] = sc[i];
    });
    cursor += inputs.length;
    if (cursor === cand.cases.length) cursor = 0; // ready for another evaluation
    return out;
  };
}

/** A retriever plus the ranking settings chosen for it (what `bst recommend` runs by default). */
export interface RankingPipeline {
  retriever: Retriever;
  setting: PipelineSetting;
}

/** The retrieved items of one history and their pipeline scores (blended as in `blendScores`), best first. */
export interface PipelineList {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * Pipeline scores for the history `cut` (the user's ratings before cut.end, at cut.now): the retriever's top
 * `setting.m` among the items not in `exclude` (the user's rated movies), scored by the BST and blended.
 * Returns them in retrieval order with their scores (rank them with topK or mmrRerank).
 */
export function pipelineCandidatesAt(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  exclude: ArrayLike<number>,
  p: RankingPipeline,
): PipelineList {
  const it = data.interactions;
  const hist: number[] = [];
  for (let q = it.userOffsets[cut.user]; q < cut.end; q++) if (it.item[q] > 0) hist.push(it.item[q]);
  // the Retriever contract's `user` is the raw userId (a two-tower model's user features), undefined for a history of no known user
  const userId =
    cut.user >= 1 && cut.user < data.sizes.numUsers
      ? (data.vocabs.user.value(cut.user) as number | undefined)
      : undefined;
  const items = p.retriever.retrieve(Int32Array.from(hist), p.setting.m, exclude, userId);
  if (items.length === 0) return { items, scores: new Float32Array(0) };
  const raw = exactScores(model, data, cut, items);
  const ranker = model.config.task === 'like' ? raw.map(logit) : raw;
  return { items, scores: blendScores(ranker, items.length, p.setting.weight) };
}

/** "retrieval (sasrec, M=100) → BST ranking", naming the blend weight when there is one. */
export function pipelineModeLabel(p: { retriever: { name: string }; setting: PipelineSetting }): string {
  const base = `retrieval (${p.retriever.name}, M=${p.setting.m})`;
  if (p.setting.weight >= 1) return `${base} alone (its order; validation chose it over BST ranking)`;
  return `${base} → BST ranking${p.setting.weight > 0 ? ` blended with the retrieval rank (w=${p.setting.weight})` : ''}`;
}
