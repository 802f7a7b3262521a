/**
 * Training a BST for recommendation: the like (click) head with sampled negatives, as next-item recommenders
 * are trained (SASRec, BERT4Rec), or the rating head on the ordinary targets, both through lib/model train().
 *
 * A like batch holds, for each target position, the positive (the movie actually rated next, liked = 1,
 * whatever its rating) and `negatives` movies the user did not rate in training, drawn uniformly (liked = 0);
 * all of them share the target's history and time reference.
 */
import { workersFromEnv } from '../train/parallel/env';
import { PreparedData, Samples, vocabsToJSON } from '../data/index';
import { mixSeed, sampleNegatives } from '../eval/ranking';
import { BstConfig, BstModel, buildBst, ProgressOptions, resolveConfig } from '../model/index';
import { train, TrainResult } from '../train/index';
import { ConfigError } from '../util/errors';
import { Rng } from '../util/rng';
import { candidateSamplesAt, heldOutCut } from './candidates';

/**
 * Per user run: the distinct items of its training targets, ascending (what negatives must avoid; val and
 * test items are not excluded, so training never learns which items are held out).
 */
export function trainItemsByUser(data: PreparedData): Int32Array[] {
  const it = data.interactions;
  const runs = it.userOffsets.length - 1;
  const sets: Set<number>[] = Array.from({ length: runs }, () => new Set<number>());
  for (const p of data.split.train) sets[it.user[p]].add(it.item[p]);
  return sets.map((s) => Int32Array.from(s).sort());
}

/** Options of `likeBatches`. */
export interface LikeBatchOptions {
  /** target positions (e.g. data.positions('train')) */
  positions: Int32Array;
  /** sampled negatives per positive */
  negatives: number;
  /** positives per batch (a batch holds positives * (1 + negatives) samples) */
  positivesPerBatch: number;
  /** seed of the negatives and of the shuffle */
  seed: number;
  shuffle?: boolean;
  /** items each user run must not get as a negative (default: trainItemsByUser) */
  exclude?: Int32Array[];
  /** where negatives come from (default: `negatives` drawn uniformly, see uniformNegatives); e.g. rank-train.ts's hard negatives */
  negativeSource?: NegativeSource;
}

/**
 * The negatives of target position `position`: distinct items, none of them in `exclude` (the user's training
 * items plus the positive). `rng` is seeded per position, so the draw is independent of batching.
 */
export type NegativeSource = (position: number, exclude: Int32Array, rng: Rng, numItems: number) => Int32Array;

/**
 * The default NegativeSource: `count` items drawn uniformly from the catalogue minus `exclude` (fewer for a
 * user who rated all but fewer than `count` movies).
 */
export function uniformNegatives(count: number): NegativeSource {
  return (_p, exclude, rng, numItems) => sampleNegatives({ rng, numItems, exclude, count, upTo: true });
}

function concatSamples(parts: Samples[]): Samples {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const L = parts[0].seqLen;
  const G = parts[0].n > 0 ? parts[0].genres.length / parts[0].n : 0;
  const out: Samples = {
    n,
    seqLen: L,
    userIdx: new Int32Array(n),
    itemSeq: new Int32Array(n * L),
    ratingSeq: new Float32Array(n * L),
    timeDelta: new Float32Array(n * L),
    genres: new Float32Array(n * G),
    yearIdx: new Int32Array(n),
    gender: new Int32Array(n),
    age: new Int32Array(n),
    occupation: new Int32Array(n),
    zip: new Int32Array(n),
    rating: new Float32Array(n),
    liked: new Float32Array(n),
  };
  let o = 0;
  for (const p of parts) {
    out.userIdx.set(p.userIdx, o);
    out.itemSeq.set(p.itemSeq, o * L);
    out.ratingSeq.set(p.ratingSeq, o * L);
    out.timeDelta.set(p.timeDelta, o * L);
    out.genres.set(p.genres, o * G);
    out.yearIdx.set(p.yearIdx, o);
    out.gender.set(p.gender, o);
    out.age.set(p.age, o);
    out.occupation.set(p.occupation, o);
    out.zip.set(p.zip, o);
    out.rating.set(p.rating, o);
    out.liked.set(p.liked, o);
    o += p.n;
  }
  return out;
}

/**
 * Stream like-head batches: for each target position its positive (liked 1, rating = the real rating) then
 * `negatives` unrated items (liked 0, rating 0). Negatives of position p come from Rng(mixSeed(seed, p)), so
 * a batch does not depend on batch size or order (`negativeSource` replaces the uniform draw). Targets whose
 * item is unknown (index 0) are skipped.
 */
export function* likeBatches(data: PreparedData, o: LikeBatchOptions): Generator<Samples, void, undefined> {
  const { negatives, positivesPerBatch, seed } = o;
  if (!(Number.isInteger(negatives) && negatives >= 0))
    throw new ConfigError(`negatives must be an integer >= 0, got ${negatives}`);
  if (!(Number.isInteger(positivesPerBatch) && positivesPerBatch >= 1))
    throw new ConfigError(`positivesPerBatch must be an integer >= 1, got ${positivesPerBatch}`);
  const it = data.interactions;
  const exclude = o.exclude ?? trainItemsByUser(data);
  let order = o.positions;
  if (o.shuffle) order = new Rng(seed).shuffle(order.slice());
  const numItems = data.sizes.numItems;
  const source = o.negativeSource ?? uniformNegatives(negatives);
  let parts: Samples[] = [];
  let count = 0;
  for (let t = 0; t < order.length; t++) {
    const p = order[t];
    const pos = it.item[p];
    if (pos === 0) continue;
    const u = it.user[p];
    const ex = exclude[u] ?? new Int32Array(0);
    const withPos = new Int32Array(ex.length + 1);
    withPos.set(ex);
    withPos[ex.length] = pos;
    const neg = source(p, withPos, new Rng(mixSeed(seed, p)), numItems);
    const items = new Int32Array(1 + neg.length);
    items[0] = pos;
    items.set(neg, 1);
    const s = candidateSamplesAt(data, heldOutCut(data, p), items);
    s.rating[0] = it.rating[p];
    s.liked[0] = 1;
    parts.push(s);
    if (++count === positivesPerBatch) {
      yield concatSamples(parts);
      parts = [];
      count = 0;
    }
  }
  if (parts.length) yield concatSamples(parts);
}

/** Options of `trainRecommender`. */
export interface TrainRecommenderOptions {
  data: PreparedData;
  /** BST config overrides; `task` picks the head ('like': sampled negatives; 'rating': ordinary targets) */
  config: Partial<BstConfig>;
  /** like head: sampled negatives per positive (default 4) */
  negatives?: number;
  /** train on the targets of the first `maxUsers` user runs only (quick runs); default all */
  maxUsers?: number;
  /** seed of batches and negatives (default config.seed) */
  seed?: number;
  checkpointDir?: string;
  log?: ((line: string) => void) | null;
  /** progress bar per epoch: true, false (default) or bar options (e.g. lib/viz's liveProgress()) */
  progress?: boolean | Omit<ProgressOptions, 'total' | 'label'>;
  /** data-parallel gradient workers incl. the main thread (lib/train/parallel); default env BST_WORKERS, else 1 */
  workers?: number;
}

/** Keep the positions whose user run is < limit + 1 (runs 1..limit). */
function firstUsers(data: PreparedData, positions: Int32Array, maxUsers?: number): Int32Array {
  if (maxUsers === undefined) return positions;
  if (!(Number.isInteger(maxUsers) && maxUsers >= 1))
    throw new ConfigError(`maxUsers must be an integer >= 1, got ${maxUsers}`);
  return positions.filter((p) => data.interactions.user[p] <= maxUsers);
}

/**
 * Build and train a BST for recommendation. 'like': batches from `likeBatches` (batchSize counts samples,
 * so each holds batchSize / (1 + negatives) positives), validation on the val targets with their own seeded
 * negatives; 'rating': the split's ordinary rating targets. Early stopping on the validation loss.
 */
export async function trainRecommender(
  o: TrainRecommenderOptions,
): Promise<{ model: BstModel; training: TrainResult; seconds: number }> {
  const config = resolveConfig({ ...o.config, seqLen: o.data.seqLen });
  const data = o.data;
  const seed = o.seed ?? config.seed;
  const model = buildBst(config, data.sizes);
  const trainPos = firstUsers(data, data.positions('train'), o.maxUsers);
  const valPos = firstUsers(data, data.positions('val'), o.maxUsers);
  if (trainPos.length === 0 || valPos.length === 0)
    throw new ConfigError(`trainRecommender: ${trainPos.length} training and ${valPos.length} validation targets`);
  const t0 = Date.now();
  let training: TrainResult;
  const common = {
    model,
    checkpointDir: o.checkpointDir,
    vocabularies: vocabsToJSON(data.vocabs),
    log: o.log,
    progress: o.progress ?? false,
    workers: o.workers ?? workersFromEnv(),
  };
  if (config.task === 'like') {
    const m = o.negatives ?? 4;
    const exclude = trainItemsByUser(data);
    const per = Math.max(1, Math.floor(config.batchSize / (1 + m)));
    training = await train({
      ...common,
      trainBatches: (epoch) =>
        likeBatches(data, {
          positions: trainPos,
          negatives: m,
          positivesPerBatch: per,
          seed: mixSeed(seed, epoch + 1),
          shuffle: true,
          exclude,
        }),
      valBatches: () =>
        likeBatches(data, {
          positions: valPos,
          negatives: m,
          positivesPerBatch: 1024,
          seed: mixSeed(seed, 0),
          exclude,
        }),
      trainSamplesPerEpoch: trainPos.length * (1 + m),
    });
  } else {
    const g = (positions: Int32Array, bs: number, shuffle: boolean, s: number) =>
      function* () {
        const ord = shuffle ? new Rng(s).shuffle(positions.slice()) : positions;
        for (let i = 0; i < ord.length; i += bs) yield data.gather(ord.subarray(i, Math.min(ord.length, i + bs)));
      };
    training = await train({
      ...common,
      trainBatches: (epoch) => g(trainPos, config.batchSize, true, mixSeed(seed, epoch + 1))(),
      valBatches: () => g(valPos, 1024, false, 0)(),
      trainSamplesPerEpoch: trainPos.length,
    });
  }
  return { model, training, seconds: (Date.now() - t0) / 1000 };
}
