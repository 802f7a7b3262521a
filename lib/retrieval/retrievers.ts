/** Retriever adapters (./types) over the two-tower model and the existing next-item scorers, and vector export of a model. */
import { ItemKnnModel, ItemKnnScoreOptions, itemKnnNextItem } from '../eval/next-item-baselines';
import { NextItemScorer, SequenceSet, nextItemTopK } from '../eval/next-item';
import { ConfigError } from '../util/errors';
import { SeqRecModel, seqRecScores } from '../seqrec/model';
import { Retriever } from './types';
import { TwoTowerModel, movieVectors, userVectors } from './model';
import { VectorSet, retrieveTopM } from './vectors';

function checkM(name: string, m: number): void {
  if (!(Number.isInteger(m) && m >= 0)) throw new ConfigError(`${name}.retrieve: m must be an integer >= 0, got ${m}`);
}

/** A Retriever over any NextItemScorer: the top m of its full score row (index 0 and `exclude` skipped). */
export function scorerRetriever(name: string, scorer: NextItemScorer): Retriever {
  return {
    name,
    retrieve(history, m, exclude) {
      checkM(name, m);
      return Int32Array.from(nextItemTopK(scorer([Int32Array.from(history)]), m, exclude));
    },
  };
}

/** The SASRec-style model (lib/seqrec) as a Retriever. */
export function sasRecRetriever(model: SeqRecModel): Retriever {
  return scorerRetriever('sasrec', (inputs) => seqRecScores(model, inputs));
}

/** Item-KNN (lib/eval/next-item-baselines) as a Retriever. */
export function itemKnnRetriever(model: ItemKnnModel, o: ItemKnnScoreOptions): Retriever {
  return scorerRetriever('item-knn', itemKnnNextItem(model, o));
}

/**
 * The two-tower model as a Retriever: exact inner-product top m of the user vector (history + the user's
 * features when `user` is given and the model uses them) against movie vectors computed once here.
 */
export function twoTowerRetriever(model: TwoTowerModel): Retriever {
  const movies = movieVectors(model); // [V * d], row = item index
  return {
    name: 'two-tower',
    retrieve(history, m, exclude, user) {
      checkM('two-tower', m);
      const u = userVectors(model, [history], [user]);
      return retrieveTopM(u, movies, m, [0, ...Array.from(exclude)]);
    },
  };
}

/**
 * The vectors of a two-tower model for export: every catalogue movie (rows = item indices 1..numItems-1, ids =
 * raw movieIds) and every user of `histories` (vector from the latest maxLen items of their sequence).
 */
export function twoTowerVectorSet(model: TwoTowerModel, histories: SequenceSet, meta?: Record<string, unknown>): VectorSet {
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
