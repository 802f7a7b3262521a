/**
 * Samples for scoring movies a user has not rated yet, "now": the history is the user's latest L-1 ratings
 * (all of them, whatever split they belong to, since they are all in the past), the target slot holds each
 * candidate in turn, and the time feature measures gaps to the user's latest rating.
 */
import { PreparedData, Samples } from '../data';
import { DataError } from '../util/errors';

/** The vocabulary index (= run index) of a MovieLens user id; throws a DataError for an unknown id. */
export function userIndex(data: PreparedData, userId: number): number {
  const r = data.vocabs.user.index(userId);
  if (r <= 0) {
    throw new DataError(`user ${userId} is unknown to the model (no training ratings); known ids run ${data.vocabs.user.values[0]}..${data.vocabs.user.values[data.vocabs.user.values.length - 1]}`);
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

/**
 * One sample per candidate item index for user run `u`, history = the run's last L-1 ratings.
 * Labels (rating, liked) are 0: these are predictions, not evaluations.
 */
export function candidateSamplesByIndex(data: PreparedData, u: number, items: ArrayLike<number>): Samples {
  const { interactions: it, features: f, sizes } = data;
  const L = data.seqLen;
  const G = sizes.numGenres;
  const n = items.length;
  const start = it.userOffsets[u];
  const end = it.userOffsets[u + 1];
  if (end <= start) throw new DataError(`user index ${u} has no ratings`);
  const now = it.timestamp[end - 1];
  const hist = Math.min(L - 1, end - start);
  const s: Samples = {
    n,
    seqLen: L,
    userIdx: new Int32Array(n).fill(u < sizes.numUsers ? u : 0),
    itemSeq: new Int32Array(n * L),
    ratingSeq: new Float32Array(n * L),
    timeDelta: new Float32Array(n * L),
    genres: new Float32Array(n * G),
    yearIdx: new Int32Array(n),
    gender: new Int32Array(n).fill(f.userGender[u]),
    age: new Int32Array(n).fill(f.userAge[u]),
    occupation: new Int32Array(n).fill(f.userOccupation[u]),
    zip: new Int32Array(n).fill(f.userZip[u]),
    rating: new Float32Array(n),
    liked: new Float32Array(n),
  };
  // history row, shared by every candidate: [L] with the last L-1 ratings right-aligned before the target slot
  const rowItems = new Int32Array(L);
  const rowRatings = new Float32Array(L);
  const rowDelta = new Float32Array(L);
  for (let j = 0; j < hist; j++) {
    const q = end - hist + j;
    const slot = L - 1 - hist + j;
    rowItems[slot] = it.item[q];
    rowRatings[slot] = it.rating[q];
    rowDelta[slot] = now - it.timestamp[q];
  }
  for (let i = 0; i < n; i++) {
    const target = items[i];
    s.itemSeq.set(rowItems, i * L);
    s.ratingSeq.set(rowRatings, i * L);
    s.timeDelta.set(rowDelta, i * L);
    s.itemSeq[i * L + L - 1] = target;
    s.genres.set(f.itemGenres.subarray(target * G, target * G + G), i * G);
    s.yearIdx[i] = f.itemYear[target];
  }
  return s;
}

/** Samples scoring MovieLens `movieIds` for MovieLens user `userId` from their latest history. */
export function userCandidateSamples(data: PreparedData, userId: number, movieIds: ArrayLike<number>): Samples {
  return candidateSamplesByIndex(data, userIndex(data, userId), itemIndices(data, movieIds));
}
