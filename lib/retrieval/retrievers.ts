/** Retriever adapters (./types) over the two-tower model and the existing next-item scorers, and vector export of a model. */
import { ItemKnnModel, ItemKnnScoreOptions, itemKnnNextItem } from '../eval/next-item-baselines';
import { NextItemScorer, SequenceSet, itemCounts } from '../eval/next-item';
import { ConfigError } from '../util/errors';
import { disposeSeqRec, SeqRecModel, seqRecScores } from '../seqrec/model';
import { Retriever } from './types';
import { TwoTowerModel, disposeTwoTower, movieVectors, userVectors } from './model';
import { VectorSet, retrieveTopM } from './vectors';

function checkM(name: string, m: number): void {
  if (!(Number.isInteger(m) && m >= 0)) throw new ConfigError(`${name}.retrieve: m must be an integer >= 0, got ${m}`);
}

/**
 * The `m` best entries of a score row (index 0 and `exclude` skipped), best first; equal scores by ascending
 * index (as nextItemTopK). A size-m min-heap: O(V log m).
 */
export function topMExcluding(scores: ArrayLike<number>, m: number, exclude: ArrayLike<number>): Int32Array {
  if (!(Number.isInteger(m) && m >= 0)) throw new ConfigError(`topMExcluding: m must be an integer >= 0, got ${m}`);
  const V = scores.length;
  const skip = new Uint8Array(V);
  skip[0] = 1;
  for (let t = 0; t < exclude.length; t++) if (exclude[t] >= 0 && exclude[t] < V) skip[exclude[t]] = 1;
  // heap of indices; "worse" = lower score, or equal score and larger index
  const heap = new Int32Array(Math.max(1, m));
  let size = 0;
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let w = i;
      if (l < size && worse(heap[l], heap[w])) w = l;
      if (r < size && worse(heap[r], heap[w])) w = r;
      if (w === i) return;
      const x = heap[i];
      heap[i] = heap[w];
      heap[w] = x;
      i = w;
    }
  };
  for (let j = 1; j < V && m > 0; j++) {
    if (skip[j]) continue;
    if (Number.isNaN(scores[j])) throw new ConfigError(`topMExcluding: score of item ${j} is NaN`);
    if (size < m) {
      heap[size] = j;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        const x = heap[i];
        heap[i] = heap[p];
        heap[p] = x;
        i = p;
      }
    } else if (worse(heap[0], j)) {
      heap[0] = j;
      down(0);
    }
  }
  const out = Int32Array.from(heap.subarray(0, size));
  return out.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** A Retriever over any NextItemScorer (full score rows): top M per history, batched `batchSize` histories per call. */
export function scorerRetriever(name: string, scorer: NextItemScorer, numItems: number, batchSize = 256): Retriever {
  const batch = (histories: Int32Array[], m: number, excludes: ArrayLike<number>[]): Int32Array[] => {
    const out: Int32Array[] = [];
    for (let s = 0; s < histories.length; s += batchSize) {
      const part = histories.slice(s, s + batchSize);
      const rows = scorer(part); // [part.length * numItems]
      if (rows.length !== part.length * numItems)
        throw new ConfigError(
          `retriever ${name}: the scorer returned ${rows.length} scores for ${part.length} histories x ${numItems} items`,
        );
      part.forEach((_, r) =>
        out.push(topMExcluding(rows.subarray(r * numItems, (r + 1) * numItems), m, excludes[s + r])),
      );
    }
    return out;
  };
  return {
    name,
    retrieve: (history, m, exclude) => batch([Int32Array.from(history)], m, [exclude])[0],
    retrieveBatch: batch,
  };
}

/** The SASRec-style model (lib/seqrec) as a retriever: its next-item logits from the last maxLen history items. */
export function sasRecRetriever(model: SeqRecModel): Retriever {
  return {
    ...scorerRetriever('sasrec', (inputs) => seqRecScores(model, inputs), model.numItems),
    dispose: () => disposeSeqRec(model),
  };
}

/** Item-KNN (lib/eval/next-item-baselines) as a retriever. */
export function itemKnnRetriever(model: ItemKnnModel, o: ItemKnnScoreOptions): Retriever {
  return scorerRetriever('item-knn', itemKnnNextItem(model, o), model.numItems);
}

/** Popularity (training events per item) as a retriever: the same list for everyone, minus what they saw. */
export function popularityRetriever(fit: SequenceSet, numItems: number): Retriever {
  const pop = Float32Array.from(itemCounts(fit, numItems));
  const one = (_h: ArrayLike<number>, m: number, exclude: ArrayLike<number>) => topMExcluding(pop, m, exclude);
  return { name: 'popularity', retrieve: one, retrieveBatch: (hs, m, ex) => hs.map((h, i) => one(h, m, ex[i])) };
}

/**
 * `retriever`'s top m for each history (its batched form when it has one); `users`: each history's raw user id,
 * for retrievers that read user features (the two-tower model's user tower).
 */
export function retrieveMany(
  retriever: Retriever,
  histories: Int32Array[],
  m: number,
  excludes: ArrayLike<number>[],
  users?: ArrayLike<number | undefined>,
): Int32Array[] {
  if (histories.length !== excludes.length)
    throw new ConfigError(`retrieveMany: ${histories.length} histories but ${excludes.length} exclude lists`);
  if (users && users.length !== histories.length)
    throw new ConfigError(`retrieveMany: ${histories.length} histories but ${users.length} user ids`);
  if (retriever.retrieveBatch) return retriever.retrieveBatch(histories, m, excludes, users);
  return histories.map((h, i) => retriever.retrieve(h, m, excludes[i], users?.[i]));
}

/**
 * The two-tower model as a Retriever: exact inner-product top m of the user vector (history + the user's
 * features when `user` is given and the model uses them) against movie vectors computed once here.
 */
export function twoTowerRetriever(model: TwoTowerModel): Retriever {
  const movies = movieVectors(model); // [V * d], row = item index
  const d = model.config.vectorDim;
  return {
    name: 'two-tower',
    retrieve(history, m, exclude, user) {
      checkM('two-tower', m);
      const u = userVectors(model, [history], [user]);
      return retrieveTopM(u, movies, m, [0, ...Array.from(exclude)]);
    },
    retrieveBatch(histories, m, excludes, users) {
      checkM('two-tower', m);
      const u = userVectors(model, histories, users); // [B * d]; user features where ids are given
      return histories.map((_, r) =>
        retrieveTopM(u.subarray(r * d, (r + 1) * d), movies, m, [0, ...Array.from(excludes[r])]),
      );
    },
    dispose: () => disposeTwoTower(model),
  };
}

/**
 * The vectors of a two-tower model for export: every catalogue movie (rows = item indices 1..numItems-1, ids =
 * raw movieIds) and every user of `histories` (vector from the latest maxLen items of their sequence).
 */
export function twoTowerVectorSet(
  model: TwoTowerModel,
  histories: SequenceSet,
  meta?: Record<string, unknown>,
): VectorSet {
  const d = model.config.vectorDim;
  const all = movieVectors(model);
  return {
    dim: d,
    normalized: model.config.normalize,
    temperature: model.config.temperature,
    movies: { ids: model.features.itemIds.slice(1), vectors: all.slice(d) },
    users: { ids: Int32Array.from(histories.users), vectors: userVectors(model, histories.items, histories.users) },
    meta: { config: model.config, ...meta },
  };
}
