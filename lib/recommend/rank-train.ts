/**
 * Training the BST as the ranking stage of retrieval -> ranking (pipeline.ts): the like head with
 * cross-entropy, where each target position's negatives are `hard` movies drawn from the retriever's top M for
 * that position's history (the candidates the ranker will actually have to order) plus `uniform` movies drawn
 * from the whole catalogue (so scores stay calibrated against ordinary movies). Neither ever includes the
 * positive or any movie the user rated in training. Batches come from train.ts's likeBatches with a
 * NegativeSource; training goes through lib/model train().
 *
 * The retriever's candidates are computed once per training position, batched (`retrieveMany`). Positions can be
 * subsampled to each user's last `maxPerUser` training targets (the ones nearest the held-out ones).
 */
import { PreparedData, vocabsToJSON } from '../data/index';
import { mixSeed, sampleNegatives } from '../eval/ranking';
import { BstConfig, BstModel, buildBst, resolveConfig } from '../model/index';
import { train, TrainResult } from '../train/index';
import { workersFromEnv } from '../train/parallel/env';
import { ConfigError } from '../util/errors';
import { Retriever, retrieveMany } from '../retrieval/index';
import { likeBatches, NegativeSource, trainItemsByUser } from './train';

/** Negative counts of ranking-stage training. */
export interface HardNegativeOptions {
  /** negatives drawn from the retriever's candidates per positive (default 4) */
  hard: number;
  /** negatives drawn uniformly from the catalogue per positive (default 2) */
  uniform: number;
  /** retriever candidates kept per position to draw hard negatives from (default 100) */
  pool: number;
}

/** Default negative counts (see HardNegativeOptions). */
export const DEFAULT_HARD_NEGATIVES: HardNegativeOptions = { hard: 4, uniform: 2, pool: 100 };

/** The user's items (nonzero) before interaction position `p`, time order: the retriever's input there. */
export function historyBefore(data: PreparedData, p: number): Int32Array {
  const it = data.interactions;
  const out: number[] = [];
  for (let q = it.userOffsets[it.user[p]]; q < p; q++) if (it.item[q] > 0) out.push(it.item[q]);
  return Int32Array.from(out);
}

/**
 * Training target positions for the ranker: known target item and at least one history item; with
 * `maxPerUser`, only each user's last that many such positions (in position order).
 */
export function rankingPositions(data: PreparedData, o: { maxPerUser?: number; maxUsers?: number } = {}): Int32Array {
  const it = data.interactions;
  const k = o.maxPerUser ?? Infinity;
  if (!(k >= 1)) throw new ConfigError(`maxPerUser must be >= 1, got ${k}`);
  const byUser = new Map<number, number[]>();
  for (const p of data.positions('train')) {
    const u = it.user[p];
    if (it.item[p] === 0 || p === it.userOffsets[u] || (o.maxUsers !== undefined && u > o.maxUsers)) continue;
    let l = byUser.get(u);
    if (!l) byUser.set(u, (l = []));
    l.push(p);
  }
  const out: number[] = [];
  for (const l of byUser.values()) out.push(...l.slice(Math.max(0, l.length - k)));
  return Int32Array.from(out).sort();
}

/**
 * The retriever's top `pool` for the history before each position (excluding that history), batched.
 * Returns a map position -> candidates (best first).
 */
export function retrieverCandidates(
  data: PreparedData,
  retriever: Retriever,
  positions: Int32Array,
  pool: number,
): Map<number, Int32Array> {
  const hist = Array.from(positions, (p) => historyBefore(data, p));
  const users = Array.from(positions, (p) => data.vocabs.user.value(data.interactions.user[p]));
  const lists = retrieveMany(retriever, hist, pool, hist, users);
  const out = new Map<number, Int32Array>();
  positions.forEach((p, i) => out.set(p, lists[i]));
  return out;
}

/**
 * A NegativeSource: `hard` distinct movies drawn uniformly from position p's retriever candidates minus
 * `exclude` (the user's training items and the positive), then `uniform` from the rest of the catalogue. When a
 * position has fewer usable candidates than `hard`, the uniform draw makes up the difference (the count per
 * positive stays hard + uniform). A position without candidates gets only uniform negatives.
 */
export function hardNegativeSource(
  candidates: Map<number, Int32Array>,
  o: Pick<HardNegativeOptions, 'hard' | 'uniform'>,
): NegativeSource {
  const { hard, uniform } = o;
  if (!(Number.isInteger(hard) && hard >= 0))
    throw new ConfigError(`hard negatives must be an integer >= 0, got ${hard}`);
  if (!(Number.isInteger(uniform) && uniform >= 0))
    throw new ConfigError(`uniform negatives must be an integer >= 0, got ${uniform}`);
  return (p, exclude, rng, numItems) => {
    const banned = new Set<number>(Array.from(exclude));
    const usable = Array.from(candidates.get(p) ?? []).filter((i) => !banned.has(i));
    const take = Math.min(hard, usable.length);
    for (let t = 0; t < take; t++) {
      // partial Fisher-Yates
      const j = t + rng.int(usable.length - t);
      const x = usable[j];
      usable[j] = usable[t];
      usable[t] = x;
    }
    const picked = usable.slice(0, take);
    const more = sampleNegatives({
      rng,
      numItems,
      exclude: [...Array.from(exclude), ...picked],
      count: hard - take + uniform,
      upTo: true, // a user who rated nearly the whole catalogue gets fewer
    });
    const out = new Int32Array(picked.length + more.length);
    out.set(picked);
    out.set(more, picked.length);
    return out;
  };
}

/** Options of `trainRanker`. */
export interface TrainRankerOptions {
  data: PreparedData;
  retriever: Retriever;
  /** BST config overrides; the task is always 'like' */
  config: Partial<BstConfig>;
  negatives?: Partial<HardNegativeOptions>;
  /** keep each user's last this many training targets (default all) */
  maxPerUser?: number;
  /** only users 1..maxUsers (quick runs) */
  maxUsers?: number;
  /** seed of batches and negatives (default config.seed) */
  seed?: number;
  checkpointDir?: string;
  log?: ((line: string) => void) | null;
  progress?: boolean;
  workers?: number;
}

/** What `trainRanker` returns. */
export interface TrainRankerResult {
  model: BstModel;
  training: TrainResult;
  /** training target positions used */
  positions: number;
  /** seconds spent retrieving candidates for the training and validation positions */
  retrieveSeconds: number;
  seconds: number;
}

/**
 * Build and train the BST ranking stage (see the module comment). Validation: the val targets with their own
 * retriever candidates as hard negatives (fixed seed); early stopping on that loss.
 */
export async function trainRanker(o: TrainRankerOptions): Promise<TrainRankerResult> {
  const { data } = o;
  const config = resolveConfig({ ...o.config, task: 'like', seqLen: data.seqLen });
  const neg: HardNegativeOptions = { ...DEFAULT_HARD_NEGATIVES, ...(o.negatives ?? {}) };
  if (!(Number.isInteger(neg.pool) && neg.pool >= 1))
    throw new ConfigError(`hard-negative pool must be an integer >= 1, got ${neg.pool}`);
  if (neg.hard + neg.uniform < 1)
    throw new ConfigError(`the ranker needs negatives: hard ${neg.hard} + uniform ${neg.uniform} = 0`);
  const seed = o.seed ?? config.seed;
  const t0 = Date.now();
  const trainPos = rankingPositions(data, { maxPerUser: o.maxPerUser, maxUsers: o.maxUsers });
  const valPos = data
    .positions('val')
    .filter(
      (p) => data.interactions.item[p] > 0 && (o.maxUsers === undefined || data.interactions.user[p] <= o.maxUsers),
    );
  if (trainPos.length === 0 || valPos.length === 0)
    throw new ConfigError(`trainRanker: ${trainPos.length} training and ${valPos.length} validation targets`);
  const cands = retrieverCandidates(data, o.retriever, Int32Array.from([...trainPos, ...valPos]), neg.pool);
  const retrieveSeconds = (Date.now() - t0) / 1000;
  o.log?.(
    `ranker: ${o.retriever.name} top ${neg.pool} for ${trainPos.length} training + ${valPos.length} validation positions in ${retrieveSeconds.toFixed(1)} s`,
  );
  const source = hardNegativeSource(cands, neg);
  const per = 1 + neg.hard + neg.uniform;
  const exclude = trainItemsByUser(data);
  const model = buildBst(config, data.sizes);
  const training = await train({
    model,
    checkpointDir: o.checkpointDir,
    vocabularies: vocabsToJSON(data.vocabs),
    log: o.log,
    progress: o.progress ?? false,
    workers: o.workers ?? workersFromEnv(),
    trainBatches: (epoch) =>
      likeBatches(data, {
        positions: trainPos,
        negatives: per - 1,
        positivesPerBatch: Math.max(1, Math.floor(config.batchSize / per)),
        seed: mixSeed(seed, epoch + 1),
        shuffle: true,
        exclude,
        negativeSource: source,
      }),
    valBatches: () =>
      likeBatches(data, {
        positions: valPos,
        negatives: per - 1,
        positivesPerBatch: 1024,
        seed: mixSeed(seed, 0),
        exclude,
        negativeSource: source,
      }),
    trainSamplesPerEpoch: trainPos.length * per,
  });
  return { model, training, positions: trainPos.length, retrieveSeconds, seconds: (Date.now() - t0) / 1000 };
}
