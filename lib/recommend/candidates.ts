/**
 * Samples for scoring movies a user has not rated yet, "now": the history is the user's latest L-1 ratings
 * (all of them, whatever split they belong to, since they are all in the past), the target slot holds each
 * candidate in turn, and the time feature measures gaps to the user's latest rating.
 */
import { allocSamples, PreparedData, Samples } from '../data/index';
import { DataError } from '../util/errors';

/** The vocabulary index (= run index) of a MovieLens user id; throws a DataError for an unknown id. */
export function userIndex(data: PreparedData, userId: number): number {
  const r = data.vocabs.user.index(userId);
  if (r <= 0) {
    throw new DataError(
      `user ${userId} is unknown to the model (no training ratings); known ids run ${data.vocabs.user.values[0]}..${data.vocabs.user.values[data.vocabs.user.values.length - 1]}`,
    );
  }
  return r;
}

/** Item indices of MovieLens movie ids; throws a DataError naming the first unknown id. */
export function itemIndices(data: PreparedData, movieIds: ArrayLike<number>): Int32Array {
  const out = new Int32Array(movieIds.length);
  for (let i = 0; i < movieIds.length; i++) {
    const ix = data.vocabs.item.index(movieIds[i]);
    if (ix <= 0) throw new DataError(`movie ${movieIds[i]} is unknown to the model (never rated in training)`);
    out[i] = ix;
  }
  return out;
}

/** Where a candidate batch's shared history ends and which time it is scored at. */
export interface HistoryCut {
  /** user run index */
  user: number;
  /** history = the run's ratings at positions < `end` (absolute index into interactions), at most L-1 of them */
  end: number;
  /** time reference (seconds): time deltas are measured from each history rating to `now` */
  now: number;
}

/**
 * One sample per candidate item index sharing the history described by `cut` (the latest L-1 ratings before
 * `cut.end`, right-aligned before the target slot). Labels (rating, liked) are 0: these are predictions.
 * A history may be empty (a cut at the run's start): the samples then hold the target alone.
 */
export function candidateSamplesAt(data: PreparedData, cut: HistoryCut, items: ArrayLike<number>): Samples {
  const { interactions: it, features: f, sizes } = data;
  const L = data.seqLen;
  const G = sizes.numGenres;
  const n = items.length;
  const u = cut.user;
  if (!(Number.isInteger(u) && u >= 1 && u < it.userOffsets.length - 1))
    throw new DataError(`user index ${u} is outside 1..${it.userOffsets.length - 2}`);
  const start = it.userOffsets[u];
  const end = cut.end;
  if (!(end >= start && end <= it.userOffsets[u + 1]))
    throw new DataError(`history end ${end} is outside user ${u}'s positions ${start}..${it.userOffsets[u + 1]}`);
  const now = cut.now;
  const hist = Math.min(L - 1, end - start);
  const s = allocSamples(n, L, G);
  s.userIdx.fill(u < sizes.numUsers ? u : 0);
  s.gender.fill(f.userGender[u]);
  s.age.fill(f.userAge[u]);
  s.occupation.fill(f.userOccupation[u]);
  s.zip.fill(f.userZip[u]);

  // history row, shared by every candidate: [L] with the last L-1 ratings right-aligned before the target slot
  const rowItems = new Int32Array(L);
  const rowRatings = new Float32Array(L);
  const rowDelta = new Float32Array(L);
  for (let j = 0; j < hist; j++) {
    const q = end - hist + j;
    const slot = L - 1 - hist + j;
    rowItems[slot] = it.item[q];
    rowRatings[slot] = it.rating[q];
    rowDelta[slot] = Math.max(0, now - it.timestamp[q]);
  }
  for (let i = 0; i < n; i++) {
    const target = items[i];
    if (!(target >= 1 && target < sizes.numItems))
      throw new DataError(`candidate item index ${target} is outside 1..${sizes.numItems - 1}`);
    s.itemSeq.set(rowItems, i * L);
    s.ratingSeq.set(rowRatings, i * L);
    s.timeDelta.set(rowDelta, i * L);
    s.itemSeq[i * L + L - 1] = target;
    s.genres.set(f.itemGenres.subarray(target * G, target * G + G), i * G);
    s.yearIdx[i] = f.itemYear[target];
  }
  return s;
}

/** The cut for recommending "now": user run `u`'s whole run is history, time reference = their latest rating. */
export function latestCut(data: PreparedData, u: number): HistoryCut {
  const it = data.interactions;
  if (!(Number.isInteger(u) && u >= 1 && u < it.userOffsets.length - 1))
    throw new DataError(`user index ${u} is outside 1..${it.userOffsets.length - 2}`);
  const end = it.userOffsets[u + 1];
  if (end <= it.userOffsets[u]) throw new DataError(`user index ${u} has no ratings`);
  return { user: u, end, now: it.timestamp[end - 1] };
}

/**
 * The cut for ranking the rating at `position` (a held-out target): history = the user's ratings before that
 * position, time reference = that rating's timestamp (exactly what the model saw for that target in training
 * style samples, so nothing from the held-out rating or later leaks in).
 */
export function heldOutCut(data: PreparedData, position: number): HistoryCut {
  const it = data.interactions;
  if (!(Number.isInteger(position) && position >= 0 && position < it.item.length))
    throw new DataError(`position ${position} is outside 0..${it.item.length - 1}`);
  return { user: it.user[position], end: position, now: it.timestamp[position] };
}

/**
 * One sample per candidate item index for user run `u`, history = the run's last L-1 ratings.
 * Labels (rating, liked) are 0: these are predictions, not evaluations.
 */
export function candidateSamplesByIndex(data: PreparedData, u: number, items: ArrayLike<number>): Samples {
  return candidateSamplesAt(data, latestCut(data, u), items);
}

/** Candidate samples for ranking against the held-out rating at `position` (see `heldOutCut`). */
export function heldOutCandidateSamples(data: PreparedData, position: number, items: ArrayLike<number>): Samples {
  return candidateSamplesAt(data, heldOutCut(data, position), items);
}

/** Samples scoring MovieLens `movieIds` for MovieLens user `userId` from their latest history. */
export function userCandidateSamples(data: PreparedData, userId: number, movieIds: ArrayLike<number>): Samples {
  return candidateSamplesByIndex(data, userIndex(data, userId), itemIndices(data, movieIds));
}
