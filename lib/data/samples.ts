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
  const L = opts.seqLen;
  if (!Number.isInteger(L) || L < 1) throw new ConfigError(`seqLen must be an integer >= 1, got ${L}`);
  const s = allocSamples(opts.positions.length, L, opts.sizes.numGenres);
  fillSamples(s, opts);
  return s;
}

/**
 * Per-batch-stream lookups packed for the gather (built once per `iterateBatches` call, O(items * G + runs)):
 * one cache line per sample for the user's run start and demographics instead of five, and the target's
 * genres as a bit mask instead of a G-float row.
 */
interface PackedLookups {
  /** [numRuns * RUN_STRIDE]: run start, gender, age, occupation, zip, (3 unused) */
  runs: Int32Array;
  /** [numItems] genre bit g set when itemGenres[item * G + g] === 1; null when G > 32 or a value is not 0/1 */
  genreBits: Uint32Array | null;
}
const RUN_STRIDE = 8;

function packLookups(it: Interactions, f: FeatureTables, G: number): PackedLookups {
  const numRuns = it.userOffsets.length - 1;
  const runs = new Int32Array(Math.max(numRuns, 0) * RUN_STRIDE);
  for (let u = 0; u < numRuns; u++) {
    const o = u * RUN_STRIDE;
    runs[o] = it.userOffsets[u];
    runs[o + 1] = f.userGender[u];
    runs[o + 2] = f.userAge[u];
    runs[o + 3] = f.userOccupation[u];
    runs[o + 4] = f.userZip[u];
  }
  let genreBits: Uint32Array | null = null;
  if (G <= 32) {
    const numItems = G > 0 ? Math.floor(f.itemGenres.length / G) : f.itemYear.length;
    genreBits = new Uint32Array(numItems);
    for (let i = 0; i < numItems && genreBits; i++) {
      let m = 0;
      for (let g = 0; g < G; g++) {
        const v = f.itemGenres[i * G + g];
        if (v === 1) m |= 1 << g;
        else if (v !== 0) genreBits = null;
      }
      if (genreBits) genreBits[i] = m >>> 0;
    }
  }
  return { runs, genreBits };
}

/**
 * Write the samples of `opts.positions` into `s` (s.n === positions.length, same seqLen and genre width).
 * Every slot is written, padding included, so `s` may hold an earlier batch. `lut` (from `packLookups` over the
 * same interactions and features) gives the same samples with fewer cache misses.
 */
function fillSamples(s: Samples, opts: GatherOptions, lut?: PackedLookups): void {
  const { interactions: it, features: f, sizes, seqLen: L, positions } = opts;
  const n = positions.length;
  const G = sizes.numGenres;
  const { user, item, rating, timestamp, userOffsets } = it;
  const { itemSeq, ratingSeq, timeDelta, genres, userIdx, yearIdx, gender, age, occupation, zip } = s;
  const outRating = s.rating;
  const liked = s.liked;
  const { itemGenres, itemYear, userGender, userAge, userOccupation, userZip } = f;
  const numUsers = sizes.numUsers;
  const N = item.length;
  const runs = lut ? lut.runs : null;
  const genreBits = lut ? lut.genreBits : null;
  for (let i = 0; i < n; i++) {
    const p = positions[i];
    if (!(p >= 0 && p < N)) throw new ConfigError(`target position ${p} outside 0..${N - 1}`);
    const u = user[p];
    const ro = u * RUN_STRIDE;
    const runStart = runs ? runs[ro] : userOffsets[u];
    const lo = p - L + 1;
    const first = runStart > lo ? runStart : lo;
    const row = i * L;
    const tT = timestamp[p];
    let slot = row;
    for (const padEnd = row + L - 1 - (p - first); slot < padEnd; slot++) {
      itemSeq[slot] = 0;
      ratingSeq[slot] = 0;
      timeDelta[slot] = 0;
    }
    for (let q = first; q < p; q++, slot++) {
      itemSeq[slot] = item[q];
      ratingSeq[slot] = rating[q];
      timeDelta[slot] = tT - timestamp[q];
    }
    const target = item[p];
    itemSeq[slot] = target;
    ratingSeq[slot] = 0;
    timeDelta[slot] = 0;
    userIdx[i] = u < numUsers ? u : 0;
    if (genreBits) {
      const m = genreBits[target];
      for (let g = 0, dst = i * G; g < G; g++) genres[dst + g] = (m >>> g) & 1;
    } else {
      for (let g = 0, src = target * G, dst = i * G; g < G; g++) genres[dst + g] = itemGenres[src + g];
    }
    yearIdx[i] = itemYear[target];
    if (runs) {
      gender[i] = runs[ro + 1];
      age[i] = runs[ro + 2];
      occupation[i] = runs[ro + 3];
      zip[i] = runs[ro + 4];
    } else {
      gender[i] = userGender[u];
      age[i] = userAge[u];
      occupation[i] = userOccupation[u];
      zip[i] = userZip[u];
    }
    const r = rating[p];
    outRating[i] = r;
    liked[i] = r >= 4 ? 1 : 0;
  }
}

/** Default `BatchOptions.shuffleBlock`. */
export const DEFAULT_SHUFFLE_BLOCK = 16;
/** Default `BatchOptions.shuffleWindow`. */
export const DEFAULT_SHUFFLE_WINDOW = 16384;

/** Options of `blockShuffle`. */
export interface BlockShuffleOptions {
  seed: number;
  /** consecutive positions moved together in the first stage; default DEFAULT_SHUFFLE_BLOCK */
  block?: number;
  /** positions shuffled together in the second stage; default DEFAULT_SHUFFLE_WINDOW */
  window?: number;
}

/**
 * A seeded, cache-friendly permutation of `positions` (a new array; the input is not changed).
 * Stage 1 cuts the positions into blocks of `block` consecutive entries and shuffles the blocks; stage 2
 * shuffles each run of `window` entries of that order on its own (Fisher-Yates). Every position appears once.
 * Positions are sorted in practice, so a window gathers from window/block short stretches of the rating
 * arrays (about 0.5 MB of ratings at the defaults, L=10): it stays in the CPU cache however large the data set is, where a
 * full shuffle makes every sample a cache miss once the ratings outgrow the cache (ML-20M).
 * Mixing: a batch of B samples holds about B*block/window samples per block (0.25 at B=256, 4 at B=4096 with the defaults).
 * When positions.length <= window the result equals `new Rng(seed).shuffle(positions.slice())`: one
 * uniform Fisher-Yates shuffle, as before blocks existed.
 */
export function blockShuffle(positions: Int32Array, opts: BlockShuffleOptions): Int32Array {
  const block = opts.block ?? DEFAULT_SHUFFLE_BLOCK;
  const window = opts.window ?? DEFAULT_SHUFFLE_WINDOW;
  if (!Number.isInteger(block) || block < 1)
    throw new ConfigError(`shuffleBlock must be an integer >= 1, got ${block}`);
  if (!Number.isInteger(window) || window < 1)
    throw new ConfigError(`shuffleWindow must be an integer >= 1, got ${window}`);
  const rng = new Rng(opts.seed);
  const n = positions.length;
  if (n <= window) return rng.shuffle(positions.slice());
  const numBlocks = Math.ceil(n / block);
  const blocks = new Int32Array(numBlocks);
  for (let b = 0; b < numBlocks; b++) blocks[b] = b;
  rng.shuffle(blocks);
  const out = new Int32Array(n);
  let o = 0;
  for (let k = 0; k < numBlocks; k++) {
    const s = blocks[k] * block;
    const e = Math.min(n, s + block);
    for (let j = s; j < e; j++) out[o++] = positions[j];
  }
  for (let w = 0; w < n; w += window) rng.shuffle(out.subarray(w, Math.min(n, w + window)));
  return out;
}

/** Options of `iterateBatches`. */
export interface BatchOptions {
  batchSize: number;
  /** shuffle the positions first (seeded, see `blockShuffle`) */
  shuffle?: boolean;
  seed?: number;
  /** see `blockShuffle`; block 1 with a window >= the number of positions is a full Fisher-Yates shuffle */
  shuffleBlock?: number;
  shuffleWindow?: number;
  /**
   * write every full batch into the same buffers (saves allocating and zeroing ~230 bytes per sample at
   * L=10): a yielded batch is valid only until the next one is requested, so copy what you keep. Default false.
   * Beware: tf.tensor(array) may keep a reference to the array instead of copying it (tfjs cpu backend), so
   * tensors made from a batch must be disposed, or their data read, before the next batch is requested.
   */
  reuseBuffers?: boolean;
}

/**
 * Stream `Samples` batches over target positions: optional seeded shuffle (`blockShuffle`), then
 * consecutive slices of `batchSize` (the last partial batch is kept). Only one batch is materialised at a time.
 */
export function* iterateBatches(
  base: Omit<GatherOptions, 'positions'>,
  positions: Int32Array,
  opts: BatchOptions,
): Generator<Samples, void, undefined> {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize must be an integer >= 1, got ${batchSize}`);
  const L = base.seqLen;
  if (!Number.isInteger(L) || L < 1) throw new ConfigError(`seqLen must be an integer >= 1, got ${L}`);
  const order = opts.shuffle
    ? blockShuffle(positions, { seed: opts.seed ?? 0, block: opts.shuffleBlock, window: opts.shuffleWindow })
    : positions;
  const lut = order.length > 0 ? packLookups(base.interactions, base.features, base.sizes.numGenres) : undefined;
  let shared: Samples | undefined;
  for (let i = 0; i < order.length; i += batchSize) {
    const slice = order.subarray(i, Math.min(order.length, i + batchSize));
    let s: Samples;
    if (opts.reuseBuffers && slice.length === batchSize)
      s = shared ??= allocSamples(batchSize, L, base.sizes.numGenres);
    else s = allocSamples(slice.length, L, base.sizes.numGenres);
    fillSamples(s, { ...base, positions: slice }, lut);
    yield s;
  }
}
