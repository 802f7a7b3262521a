/**
 * Training of a two-tower model: every position of every training window is a (user vector, next movie) pair;
 * a batch's candidates are its distinct next movies (plus optional uniform extras), trained with the in-batch
 * sampled softmax and, when config.logQ, the log-q correction (./loss). Adam; early stopping on validation
 * (config.selectBy: recall@100 or NDCG@10) with the best weights kept. Seeded: the same seed gives the same model.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../kernels/fused';
import { NextItemCase, NextItemMetrics, NextItemScorer, SequenceSet, evaluateNextItem } from '../eval/next-item';
import { EpochLoss, runEpochs } from '../train/epochs';
import { TrainingError } from '../util/errors';
import { Rng } from '../util/rng';
import { padLeft } from '../seqrec/model';
import { TwoTowerConfig } from './config';
import { RetrievalFeatures } from './features';
import { RecallAtM, recallAtM } from './evaluate';
import { batchCandidates, candidateLogQ, sampledSoftmaxLoss } from './loss';
import {
  TwoTowerModel,
  createTwoTower,
  movieTower,
  movieVectors,
  twoTowerScores,
  userFeatureIndices,
  userTower,
} from './model';

/** Training windows: left-padded inputs and next-item targets [n * L] (0 = none) and each window's raw userId. */
export interface TwoTowerWindows {
  n: number;
  inputs: Int32Array;
  targets: Int32Array;
  users: Int32Array;
}

/** Windows from fit sequences: each sequence cut into maxLen-step chunks from its end (as lib/seqrec's 'all'). */
export function twoTowerWindows(fit: SequenceSet, maxLen: number): TwoTowerWindows {
  const ins: Int32Array[] = [];
  const tgs: Int32Array[] = [];
  const users: number[] = [];
  fit.items.forEach((s, u) => {
    for (let end = s.length - 1; end > 0; end -= maxLen) {
      const start = Math.max(0, end - maxLen);
      ins.push(s.subarray(start, end));
      tgs.push(s.subarray(start + 1, end + 1));
      users.push(fit.users[u]);
    }
  });
  return { n: ins.length, inputs: padLeft(ins, maxLen), targets: padLeft(tgs, maxLen), users: Int32Array.from(users) };
}

/**
 * A NextItemScorer of a two-tower model. User features are found through `cases`: each case's `input` array
 * (by identity, as evaluateNextItem passes it) maps to its user; other inputs score without user features.
 */
export function twoTowerScorer(m: TwoTowerModel, cases: NextItemCase[] = []): NextItemScorer {
  const userOf = new Map<Int32Array, number>();
  for (const c of cases) userOf.set(c.input, c.user);
  const movies = movieVectors(m);
  return (inputs) =>
    twoTowerScores(
      m,
      inputs,
      inputs.map((x) => userOf.get(x)),
      movies,
    );
}

/** One validation of the training history. */
export interface TwoTowerEpoch {
  epoch: number;
  trainLoss: number;
  val: NextItemMetrics;
  recall: RecallAtM;
  seconds: number;
}

/** Options of trainTwoTower. */
export interface TrainTwoTowerOptions {
  config: TwoTowerConfig;
  features: RetrievalFeatures;
  /** training sequences (item indices of the features' catalogue) */
  fit: SequenceSet;
  /** validation cases for early stopping (none: train config.epochs epochs) */
  val?: NextItemCase[];
  /** one line per validation; default none */
  log?: (line: string) => void;
}

/** What trainTwoTower returns: the model holds the best validation weights. */
export interface TrainTwoTowerResult {
  model: TwoTowerModel;
  history: TwoTowerEpoch[];
  /** epoch (1-based) of the best validation `selectBy` (the last epoch without validation) */
  bestEpoch: number;
  bestVal?: TwoTowerEpoch;
  epochsRun: number;
  seconds: number;
  stoppedBy: 'patience' | 'epochs' | 'time';
}

/** Validation metrics of a model on cases: HR/NDCG (evaluateNextItem) and recall@M. */
export function evaluateTwoTower(
  m: TwoTowerModel,
  cases: NextItemCase[],
  fit: SequenceSet,
): { val: NextItemMetrics; recall: RecallAtM } {
  const scorer = twoTowerScorer(m, cases);
  return {
    val: evaluateNextItem(scorer, cases, { numItems: m.numItems, fit }),
    recall: recallAtM(scorer, cases, { numItems: m.numItems }),
  };
}

/** Train a new two-tower model (see the module comment). Throws a TrainingError on a NaN or infinite loss. */
export function trainTwoTower(o: TrainTwoTowerOptions): TrainTwoTowerResult {
  const c = o.config;
  const L = c.maxLen;
  const V = o.features.numItems;
  const model = createTwoTower(c, o.features);
  const w = twoTowerWindows(o.fit, L);
  if (w.n === 0) throw new TrainingError('trainTwoTower: no fit sequence has 2 or more items');
  // p_j: item j's share of the training positives (the targets of the windows), for log q
  const counts = new Float64Array(V);
  let total = 0;
  for (let p = 0; p < w.targets.length; p++)
    if (w.targets[p] > 0) {
      counts[w.targets[p]]++;
      total++;
    }
  const prob = Float64Array.from(counts, (x) => x / total);
  // q_j for a batch of the mean number of positives (full batches dominate; the last partial batch is close enough)
  const candidateLogQAll = candidateLogQ(prob, total / Math.ceil(w.n / c.batchSize), c.extraNegatives);
  const opt = new FusedAdamOptimizer(c.learningRate, 0.9, 0.98);
  const rng = new Rng(c.seed + 1);
  const order = Int32Array.from({ length: w.n }, (_, i) => i);
  let step = 0;
  const trainEpoch = (epoch: number): number => {
    rng.shuffle(order);
    const meter = new EpochLoss({ trainer: 'trainTwoTower', epoch, learningRate: c.learningRate });
    for (let s = 0; s < w.n; s += c.batchSize) {
      const rows = order.subarray(s, s + c.batchSize);
      const B = rows.length;
      const ids = new Int32Array(B * L);
      const valid: number[] = [];
      const pos: number[] = [];
      rows.forEach((r, b) => {
        ids.set(w.inputs.subarray(r * L, (r + 1) * L), b * L);
        for (let t = 0; t < L; t++) {
          const y = w.targets[r * L + t];
          if (y > 0) {
            valid.push(b * L + t);
            pos.push(y);
          }
        }
      });
      const extra = Int32Array.from({ length: c.extraNegatives }, () => 1 + rng.int(V - 1));
      const cand = batchCandidates(pos, extra);
      const logQ = c.logQ ? Float32Array.from(cand.items, (j) => candidateLogQAll[j]) : undefined;
      const uIdx = userFeatureIndices(
        model,
        Array.from(rows, (r) => w.users[r]),
      );
      const loss = tf.tidy(() => {
        const idsT = tf.tensor2d(ids, [B, L], 'int32'); // [B, L]
        const uT = model.useUsers ? tf.tensor2d(uIdx, [B, 3], 'int32') : undefined; // [B, 3]
        const validT = tf.tensor1d(Int32Array.from(valid), 'int32'); // [N]
        const candT = tf.tensor1d(cand.items, 'int32'); // [C]
        return opt.minimize(
          () => {
            const u = tf.gather(
              tf.reshape(userTower(model, idsT, uT, `twotower${c.seed}/${step}`), [-1, c.vectorDim]),
              validT,
            ) as tf.Tensor2D; // [N, d]
            const v = movieTower(model, candT); // [C, d]
            return sampledSoftmaxLoss(tf.matMul(u, tf.transpose(v)) as tf.Tensor2D, cand.labels, {
              temperature: c.temperature,
              logQ,
            }); // [] over N
          },
          true,
          model.vars,
        ) as tf.Scalar;
      });
      meter.add(loss, valid.length, ++step);
    }
    return meter.mean();
  };
  const val = o.val;
  const r = runEpochs({
    validate: val ? () => evaluateTwoTower(model, val, o.fit) : undefined,
    score: (e) => (c.selectBy === 'ndcg10' ? e.val.ndcg10 : e.recall.recall[100]),
    describe: (rec, improved) =>
      `epoch ${rec.epoch}: loss ${rec.trainLoss.toFixed(4)}  val HR@10 ${rec.val.hr10.toFixed(4)} NDCG@10 ${rec.val.ndcg10.toFixed(4)} ` +
      `recall@100 ${rec.recall.recall[100].toFixed(4)}${improved ? ' *' : ''}  ${rec.seconds.toFixed(0)}s`,
    schedule: c,
    vars: model.vars,
    trainEpoch,
    log: o.log,
  });
  opt.dispose();
  const { history, bestEpoch, epochsRun, seconds, stoppedBy } = r;
  return { model, history, bestEpoch, bestVal: r.best, epochsRun, seconds, stoppedBy };
}
