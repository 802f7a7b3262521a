/**
 * Training of a SeqRec model: next-item prediction at every position with full-softmax cross-entropy,
 * dropout, Adam, early stopping on validation NDCG@10 (lib/eval/next-item) with the best weights kept.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../kernels/fused';
import {
  EvaluateNextItemOptions,
  NextItemCase,
  NextItemMetrics,
  SequenceSet,
  evaluateNextItem,
} from '../eval/next-item';
import { EpochLoss, runEpochs } from '../train/epochs';
import { TrainingError } from '../util/errors';
import { Rng } from '../util/rng';
import { SeqRecConfig } from './config';
import { SeqRecModel, createSeqRec, padLeft, seqRecHidden, seqRecLogits, seqRecScores } from './model';

/** Training windows: left-padded inputs and their next items, both Int32Array [n * L] (0 = no target). */
export interface SeqRecWindows {
  n: number;
  inputs: Int32Array;
  targets: Int32Array;
}

/**
 * Windows from fit sequences: each sequence s gives inputs s[0..n-2] with targets s[1..n-1]; 'last' keeps
 * the last maxLen steps, 'all' cuts the whole sequence into maxLen-step chunks from its end.
 */
export function seqRecWindows(fit: SequenceSet, c: Pick<SeqRecConfig, 'maxLen' | 'windows'>): SeqRecWindows {
  const L = c.maxLen;
  const ins: Int32Array[] = [];
  const tgs: Int32Array[] = [];
  for (const s of fit.items) {
    if (s.length < 2) continue;
    for (let end = s.length - 1; end > 0; end -= L) {
      const start = Math.max(0, end - L);
      ins.push(s.subarray(start, end));
      tgs.push(s.subarray(start + 1, end + 1));
      if (c.windows === 'last') break;
    }
  }
  return { n: ins.length, inputs: padLeft(ins, L), targets: padLeft(tgs, L) };
}

/**
 * Mean full-softmax cross-entropy of logits [N, V] against targets [N], with a hand-written gradient
 * (softmax - onehot) / N: tfjs's logSumExp gradient goes through an Equal over [N, V] that alone takes
 * seconds on wasm at N ~ 5000, V ~ 1700.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [N, V] = logits.shape;
  const flat = tf.tensor1d(
    Int32Array.from(targets, (t, i) => i * V + t),
    'int32',
  ); // [N] positions in [N * V]
  const forward = (x: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = tf.softmax(x); // [N, V]
    save([p]);
    const picked = tf.gather(tf.reshape(p, [-1]), flat); // [N]
    return {
      value: tf.neg(tf.mean(tf.log(tf.maximum(picked, 1e-30)))) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // int32 one-hot then cast: tfjs-backend-wasm's OneHot with dtype 'float32' returns all zeros
        const oneHot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), V), 'float32'); // [N, V]
        return tf.mul(tf.sub(saved[0], oneHot), tf.div(dy, N)); // [N, V]
      },
    };
  };
  const f = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    x: tf.Tensor,
  ) => tf.Scalar;
  return f(logits);
}

/**
 * Mean cross-entropy of a batch (dropout on): full softmax over the catalogue at every position with a target.
 * ids: [B, L] int32; targets: [B * L] (0 = none); `valid`: the flat positions b * L + t whose target is > 0.
 */
export function seqRecLoss(
  m: SeqRecModel,
  ids: tf.Tensor2D,
  targets: Int32Array,
  valid: Int32Array,
  seed: string,
): tf.Scalar {
  const D = m.config.dim;
  const h = tf.reshape(seqRecHidden(m, ids, seed), [-1, D]); // [B*L, D]
  const hv = tf.gather(h, tf.tensor1d(valid, 'int32')) as tf.Tensor2D; // [N, D]
  return softmaxCrossEntropy(
    seqRecLogits(m, hv),
    Int32Array.from(valid, (p) => targets[p]),
  ); // [] mean over N
}

/** One validation of the training history. */
export interface SeqRecEpoch {
  epoch: number;
  trainLoss: number;
  val: NextItemMetrics;
  seconds: number;
}

/** Options of trainSeqRec. */
export interface TrainSeqRecOptions {
  config: SeqRecConfig;
  /** catalogue size including index 0 */
  numItems: number;
  /** training sequences */
  fit: SequenceSet;
  /** validation cases for early stopping (none: train config.epochs epochs, no early stopping) */
  val?: NextItemCase[];
  /** evaluation options for validation (numItems and fit are filled in) */
  evalOptions?: Partial<EvaluateNextItemOptions>;
  /** one line per validation; default none */
  log?: (line: string) => void;
}

/** What trainSeqRec returns: the model holds the best validation weights. */
export interface TrainSeqRecResult {
  model: SeqRecModel;
  history: SeqRecEpoch[];
  /** epoch (1-based) of the best validation NDCG@10 (the last epoch without validation) */
  bestEpoch: number;
  bestVal?: NextItemMetrics;
  epochsRun: number;
  seconds: number;
  stoppedBy: 'patience' | 'epochs' | 'time';
}

/** Train a new SeqRec model (see the module comment). Throws a TrainingError on a NaN or infinite loss. */
export function trainSeqRec(o: TrainSeqRecOptions): TrainSeqRecResult {
  const c = o.config;
  const L = c.maxLen;
  const model = createSeqRec(c, o.numItems);
  const w = seqRecWindows(o.fit, c);
  if (w.n === 0) throw new TrainingError('trainSeqRec: no fit sequence has 2 or more items');
  const opt = new FusedAdamOptimizer(c.learningRate, 0.9, 0.98);
  const rng = new Rng(c.seed + 1);
  const order = Int32Array.from({ length: w.n }, (_, i) => i);
  let step = 0;
  const trainEpoch = (epoch: number): number => {
    rng.shuffle(order);
    const meter = new EpochLoss({ trainer: 'trainSeqRec', epoch, learningRate: c.learningRate });
    for (let s = 0; s < w.n; s += c.batchSize) {
      const rows = order.subarray(s, s + c.batchSize);
      const B = rows.length;
      const ids = new Int32Array(B * L);
      const tg = new Int32Array(B * L);
      const valid: number[] = [];
      rows.forEach((r, b) => {
        ids.set(w.inputs.subarray(r * L, (r + 1) * L), b * L);
        tg.set(w.targets.subarray(r * L, (r + 1) * L), b * L);
      });
      for (let p = 0; p < B * L; p++) if (tg[p] > 0) valid.push(p);
      const loss = tf.tidy(() => {
        const idsT = tf.tensor2d(ids, [B, L], 'int32'); // [B, L]
        return opt.minimize(
          () => seqRecLoss(model, idsT, tg, Int32Array.from(valid), `seqrec${c.seed}/${step}`),
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
    validate: val
      ? () => ({
          val: evaluateNextItem((inp) => seqRecScores(model, inp), val, {
            ...o.evalOptions,
            numItems: o.numItems,
            fit: o.fit,
          }),
        })
      : undefined,
    score: (rec) => rec.val.ndcg10,
    describe: (rec, improved) =>
      `epoch ${rec.epoch}: loss ${rec.trainLoss.toFixed(4)}  val HR@10 ${rec.val.hr10.toFixed(4)} NDCG@10 ${rec.val.ndcg10.toFixed(4)}${improved ? ' *' : ''}  ${rec.seconds.toFixed(0)}s`,
    schedule: c,
    vars: model.vars,
    trainEpoch,
    log: o.log,
  });
  opt.dispose();
  const { history, bestEpoch, epochsRun, seconds, stoppedBy } = r;
  return { model, history, bestEpoch, bestVal: r.best?.val, epochsRun, seconds, stoppedBy };
}
