/** Rows of a Samples batch: slice, chunk, take (reorder) and concatenate, each copying into a new batch. */
import { allocSamples } from './samples';
import { Samples } from './types';

/** Rows [start, end) of a batch as a new Samples (copies). */
export function sliceSamples(s: Samples, start: number, end: number): Samples {
  const L = s.seqLen;
  const G = s.genres.length / Math.max(1, s.n);
  return {
    n: end - start,
    seqLen: L,
    userIdx: s.userIdx.slice(start, end),
    itemSeq: s.itemSeq.slice(start * L, end * L),
    ratingSeq: s.ratingSeq.slice(start * L, end * L),
    timeDelta: s.timeDelta.slice(start * L, end * L),
    genres: s.genres.slice(start * G, end * G),
    yearIdx: s.yearIdx.slice(start, end),
    gender: s.gender.slice(start, end),
    age: s.age.slice(start, end),
    occupation: s.occupation.slice(start, end),
    zip: s.zip.slice(start, end),
    rating: s.rating.slice(start, end),
    liked: s.liked.slice(start, end),
  };
}

/** Split a batch into consecutive batches of at most `size` rows (the last one may be partial). */
export function chunkSamples(s: Samples, size: number): Samples[] {
  const out: Samples[] = [];
  for (let i = 0; i < s.n; i += size) out.push(sliceSamples(s, i, Math.min(s.n, i + size)));
  return out;
}

/** Rows of `s` in the order given by `idx` (copies); with a shuffled idx this is a shuffled batch. */
export function takeSamples(s: Samples, idx: ArrayLike<number>): Samples {
  const parts = Array.from(idx, (i) => sliceSamples(s, i, i + 1));
  return concatSamples(parts, s.seqLen, s.genres.length / Math.max(1, s.n));
}

/** Concatenate batches. */
export function concatSamples(parts: Samples[], seqLen: number, numGenres: number): Samples {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const s = allocSamples(n, seqLen, numGenres);
  let o = 0;
  for (const p of parts) {
    s.userIdx.set(p.userIdx, o);
    s.yearIdx.set(p.yearIdx, o);
    s.gender.set(p.gender, o);
    s.age.set(p.age, o);
    s.occupation.set(p.occupation, o);
    s.zip.set(p.zip, o);
    s.rating.set(p.rating, o);
    s.liked.set(p.liked, o);
    s.itemSeq.set(p.itemSeq, o * seqLen);
    s.ratingSeq.set(p.ratingSeq, o * seqLen);
    s.timeDelta.set(p.timeDelta, o * seqLen);
    s.genres.set(p.genres, o * numGenres);
    o += p.n;
  }
  return s;
}
