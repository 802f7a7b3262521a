/**
 * Synthetic Samples for tests, notebooks and benchmarks: random batches and batches with a planted
 * sequential signal, over any FeatureSizes. Nothing here reads files.
 */
import { allocSamples } from '../data/samples';
import { FeatureSizes, Samples } from '../data/types';
import { Rng } from '../util/rng';

/** Tiny vocabularies for fast tests. */
export function tinySizes(): FeatureSizes {
  return {
    numUsers: 12,
    numItems: 20,
    numGenres: 5,
    numYears: 6,
    numGenders: 3,
    numAges: 4,
    numOccupations: 5,
    numZips: 6,
  };
}

/** Options of syntheticSamples. */
export interface SyntheticOptions {
  n: number;
  seqLen: number;
  sizes: FeatureSizes;
  seed: number;
  /** Fewest history items per sample (the rest is left padding). Default 0. */
  minHistory?: number;
  /**
   * Planted signal: 'none' (random target rating), 'previous-rating' (target rating = rating of the most
   * recent history item), 'genre-match' (target rating high when the target item shares its parity class
   * with the most recent history item, low otherwise). Default 'none'.
   */
  signal?: 'none' | 'previous-rating' | 'genre-match';
}

/** Allocate an all-zero Samples of n rows (lib/data's allocSamples). */
export function emptySamples(n: number, seqLen: number, numGenres: number): Samples {
  return allocSamples(n, seqLen, numGenres);
}

/** A seeded random batch (history left-padded with 0, target in the last slot) with an optional planted signal. */
export function syntheticSamples(o: SyntheticOptions): Samples {
  const { n, seqLen: L, sizes } = o;
  const rng = new Rng(o.seed);
  const s = emptySamples(n, L, sizes.numGenres);
  const minH = Math.min(o.minHistory ?? 0, L - 1);
  const signal = o.signal ?? 'none';
  for (let i = 0; i < n; i++) {
    const h = minH + rng.int(L - minH); // history length 0..L-1
    const target = 1 + rng.int(sizes.numItems - 1);
    let gap = 0;
    for (let p = L - 2; p >= L - 1 - h; p--) {
      gap += 60 + rng.int(86400 * 30);
      s.itemSeq[i * L + p] = 1 + rng.int(sizes.numItems - 1);
      s.ratingSeq[i * L + p] = 1 + rng.int(5);
      s.timeDelta[i * L + p] = gap;
    }
    s.itemSeq[i * L + L - 1] = target;
    s.userIdx[i] = 1 + rng.int(sizes.numUsers - 1);
    s.yearIdx[i] = rng.int(sizes.numYears);
    s.gender[i] = rng.int(sizes.numGenders);
    s.age[i] = rng.int(sizes.numAges);
    s.occupation[i] = rng.int(sizes.numOccupations);
    s.zip[i] = rng.int(sizes.numZips);
    for (let g = 0; g < sizes.numGenres; g++) s.genres[i * sizes.numGenres + g] = rng.next() < 0.3 ? 1 : 0;
    let r = 1 + rng.int(5);
    const last = h > 0 ? i * L + L - 2 : -1;
    if (signal === 'previous-rating' && last >= 0) r = s.ratingSeq[last];
    if (signal === 'genre-match' && last >= 0) r = s.itemSeq[last] % 2 === target % 2 ? 4 + rng.int(2) : 1 + rng.int(2);
    s.rating[i] = r;
    s.liked[i] = r >= 4 ? 1 : 0;
  }
  return s;
}
