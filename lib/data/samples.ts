/**
 * Cut samples from `Interactions` by target position, and stream them as batches. A sample is the target
 * rating plus the L-1 ratings before it of the same user (left-padded with 0), the time from each history
 * rating to the target (the BST position feature), user and target-movie features and the labels.
 */
import { FeatureSizes, Interactions, Samples } from './types';
import { Rng } from '../util/rng';
import { ConfigError } from '../util/errors';

/** Per-item and per-user feature lookups, indexed by item index and by user run index. */
export interface FeatureTables {
  /** [numItems * numGenres] multi-hot rows; row 0 (unknown item) is all zeros */
  itemGenres: Float32Array;
  /** [numItems] year index (0 = unknown) */
  itemYear: Int32Array;
  /** [numRuns] demographic indices per user run (0 = unknown / release without demographics) */
  userGender: Int32Array;
  userAge: Int32Array;
  userOccupation: Int32Array;
  userZip: Int32Array;
}

/** An all-zero `Samples` of n rows, sequence length L and G genre columns. */
export function allocSamples(n: number, L: number, G: number): Samples {
  return {
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
}

/** Options of `gatherSamples`. */
export interface GatherOptions {
  interactions: Interactions;
  features: FeatureTables;
  sizes: FeatureSizes;
  seqLen: number;
  /** target positions (indices into interactions) */
  positions: ArrayLike<number>;
}

/** Build the `Samples` of the given target positions (one sample per position, in the order given). */
export function gatherSamples(opts: GatherOptions): Samples {
  const { interactions: it, features: f, sizes, seqLen: L, positions } = opts;
  if (!Number.isInteger(L) || L < 1) throw new ConfigError(`seqLen must be an integer >= 1, got ${L}`);
  const n = positions.length;
  const G = sizes.numGenres;
  const s = allocSamples(n, L, G);

  const { user, item, rating, timestamp, userOffsets } = it;
  const { itemSeq, ratingSeq, timeDelta, genres, userIdx, yearIdx, gender, age, occupation, zip } = s;
  const { itemGenres, itemYear, userGender, userAge, userOccupation, userZip } = f;
  const numUsers = sizes.numUsers;
  const N = item.length;
  for (let i = 0; i < n; i++) {
    const p = positions[i];
    if (!(p >= 0 && p < N)) throw new ConfigError(`target position ${p} outside 0..${N - 1}`);
    const u = user[p];
    const runStart = userOffsets[u];
    const first = Math.max(runStart, p - L + 1);
    const row = i * L;
    const tT = timestamp[p];
    for (let q = first, slot = row + L - 1 - (p - first); q < p; q++, slot++) {
      itemSeq[slot] = item[q];
      ratingSeq[slot] = rating[q];
      timeDelta[slot] = tT - timestamp[q];
    }
    const target = item[p];
    itemSeq[row + L - 1] = target;
    userIdx[i] = u < numUsers ? u : 0;
    for (let g = 0, src = target * G, dst = i * G; g < G; g++) genres[dst + g] = itemGenres[src + g];
    yearIdx[i] = itemYear[target];
    gender[i] = userGender[u];
    age[i] = userAge[u];
    occupation[i] = userOccupation[u];
    zip[i] = userZip[u];
    const r = rating[p];
    s.rating[i] = r;
    s.liked[i] = r >= 4 ? 1 : 0;
  }
  return s;
}

/** Options of `iterateBatches`. */
export interface BatchOptions {
  batchSize: number;
  /** shuffle the positions first (seeded) */
  shuffle?: boolean;
  seed?: number;
}

/**
 * Stream `Samples` batches over target positions: optional seeded shuffle, then consecutive slices of
 * `batchSize` (the last partial batch is kept). Only one batch is materialised at a time.
 */
export function* iterateBatches(
  base: Omit<GatherOptions, 'positions'>,
  positions: Int32Array,
  opts: BatchOptions,
): Generator<Samples, void, undefined> {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be an integer >= 1, got ${batchSize}`);
  let order = positions;
  if (opts.shuffle) {
    order = positions.slice();
    new Rng(opts.seed ?? 0).shuffle(order);
  }
  for (let i = 0; i < order.length; i += batchSize) {
    yield gatherSamples({ ...base, positions: order.subarray(i, Math.min(order.length, i + batchSize)) });
  }
}
