/**
 * Train a two-tower retriever on a dataset's leave-one-out next-item split and export its vectors (what
 * `bst retrieve-export` runs): training on the split's fit sequences with early stopping on validation, test
 * metrics once, then movie vectors for the catalogue and user vectors from each user's latest history (all
 * their known events, the held-out ones included: vectors for serving, not for evaluation).
 */
import {
  NextItemMetrics,
  NextItemSplit,
  SequenceSet,
  eventsFromTable,
  evaluateNextItem,
  leaveOneOutSplit,
} from '../eval/next-item';
import { TwoTowerConfig } from './config';
import { RetrievalTables, retrievalFeatures } from './features';
import { RecallAtM, recallAtM } from './evaluate';
import { TrainTwoTowerResult, trainTwoTower, twoTowerScorer } from './train';
import { twoTowerVectorSet } from './retrievers';
import { exportVectors } from './vectors';
import { disposeTwoTower } from './model';

/** The tables of a Dataset the pipeline reads. */
export interface RetrievalDataset extends RetrievalTables {
  release?: string;
  ratings: { array(name: string): ArrayLike<unknown> };
}

/** Options of trainAndExportVectors. */
export interface TrainAndExportOptions {
  dataset: RetrievalDataset;
  /** output folder of the vectors (lib/retrieval/vectors format) */
  out: string;
  config: TwoTowerConfig;
  log?: (line: string) => void;
}

/** What trainAndExportVectors returns. */
export interface TrainAndExportResult {
  training: Omit<TrainTwoTowerResult, 'model'>;
  test: NextItemMetrics;
  testRecall: RecallAtM;
  movies: number;
  users: number;
}

/** Each user's full known history: a test case's input plus its target, or the fit sequence of a user without cases. */
export function latestHistories(split: NextItemSplit): SequenceSet {
  const byUser = new Map<number, Int32Array>();
  split.test.fit.items.forEach((s, u) => byUser.set(split.test.fit.users[u], s));
  for (const c of split.test.cases)
    byUser.set(c.user, c.target > 0 ? Int32Array.from([...c.input, c.target]) : c.input);
  const users = Array.from(byUser.keys()).sort((a, b) => a - b);
  return { users: Int32Array.from(users), items: users.map((u) => byUser.get(u)!), times: [] };
}

/** Train on the leave-one-out split, report test metrics, export the vectors to `out`. */
export function trainAndExportVectors(o: TrainAndExportOptions): TrainAndExportResult {
  const split = leaveOneOutSplit(eventsFromTable(o.dataset.ratings));
  const features = retrievalFeatures(o.dataset, split.itemIds);
  const r = trainTwoTower({ config: o.config, features, fit: split.val.fit, val: split.val.cases, log: o.log });
  const scorer = twoTowerScorer(r.model, split.test.cases);
  const test = evaluateNextItem(scorer, split.test.cases, { numItems: split.numItems, fit: split.test.fit });
  const testRecall = recallAtM(scorer, split.test.cases, { numItems: split.numItems });
  const histories = latestHistories(split);
  const v = twoTowerVectorSet(r.model, histories, {
    dataset: o.dataset.release,
    split: 'leave-one-out',
    bestEpoch: r.bestEpoch,
    test: { hr10: test.hr10, ndcg10: test.ndcg10, recall: testRecall.recall },
  });
  exportVectors(o.out, v);
  const { model, ...training } = r;
  disposeTwoTower(model);
  return { training, test, testRecall, movies: v.movies.ids.length, users: v.users.ids.length };
}
