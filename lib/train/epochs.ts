/**
 * The epoch loop of the hand-built models (lib/seqrec/train.ts, lib/retrieval/train.ts): up to `epochs` epochs,
 * a validation every `evalEvery` epochs (and after the last one, and when the time budget runs out), early
 * stopping after `patience` validations without improvement, a `maxSeconds` budget checked after each epoch,
 * and the best validation's weights restored at the end. Synchronous: each epoch and validation is a plain call.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainingError } from '../util/errors';

/** Why runEpochs stopped: patience ran out, all epochs ran, or the time budget was spent. */
export type EpochsStoppedBy = 'patience' | 'epochs' | 'time';

/** One validation of the history: the epoch, its mean training loss, the caller's metrics, seconds since the start. */
export type EpochRecord<M extends object> = { epoch: number; trainLoss: number } & M & { seconds: number };

/** The schedule of runEpochs (the fields of a model's config). */
export interface EpochSchedule {
  /** most epochs to train */
  epochs: number;
  /** validate every this many epochs (and after the last one) */
  evalEvery: number;
  /** stop after this many validations without improvement (0: never) */
  patience: number;
  /** stop after the first epoch that ends past this many seconds (0: no limit) */
  maxSeconds: number;
}

/** Options of runEpochs. */
export interface RunEpochsOptions<M extends object> {
  schedule: EpochSchedule;
  /** the model's variables: copied at each improvement, the best copy assigned back at the end */
  vars: tf.Variable[];
  /** train epoch `epoch` (1-based); returns its mean training loss */
  trainEpoch: (epoch: number) => number;
  /** the validation metrics of the current weights; none: no validation, no early stopping */
  validate?: () => M;
  /** the value to maximise; a record improves on the best when its score is strictly higher */
  score: (rec: EpochRecord<M>) => number;
  /** the log line of a validation (`improved`: it is the new best); called only when `log` is set */
  describe: (rec: EpochRecord<M>, improved: boolean) => string;
  /** one line per validation; default none */
  log?: (line: string) => void;
}

/** What runEpochs returns; the variables hold the best validation's weights. */
export interface RunEpochsResult<M extends object> {
  history: EpochRecord<M>[];
  /** epoch (1-based) of the best validation (the last epoch without validation; 0 when none ran) */
  bestEpoch: number;
  best?: EpochRecord<M>;
  epochsRun: number;
  seconds: number;
  stoppedBy: EpochsStoppedBy;
}

/** Run the epoch loop (see the module comment). Errors thrown by trainEpoch or validate propagate. */
export function runEpochs<M extends object>(o: RunEpochsOptions<M>): RunEpochsResult<M> {
  const c = o.schedule;
  const history: EpochRecord<M>[] = [];
  let bestWeights: tf.Tensor[] | undefined;
  let best: EpochRecord<M> | undefined;
  let bestEpoch = 0;
  let bad = 0;
  let stoppedBy: EpochsStoppedBy = 'epochs';
  const t0 = Date.now();
  let epoch = 0;
  while (epoch < c.epochs) {
    epoch++;
    const trainLoss = o.trainEpoch(epoch);
    const over = c.maxSeconds > 0 && (Date.now() - t0) / 1000 > c.maxSeconds;
    if (o.validate && (epoch % c.evalEvery === 0 || epoch === c.epochs || over)) {
      const metrics = o.validate();
      const rec = { epoch, trainLoss, ...metrics, seconds: (Date.now() - t0) / 1000 } as EpochRecord<M>;
      history.push(rec);
      const improved = !best || o.score(rec) > o.score(best);
      if (improved) {
        tf.dispose(bestWeights);
        bestWeights = o.vars.map((x) => tf.clone(x));
        best = rec;
        bestEpoch = epoch;
        bad = 0;
      } else bad++;
      if (o.log) o.log(o.describe(rec, improved));
      if (c.patience > 0 && bad >= c.patience) {
        stoppedBy = 'patience';
        break;
      }
    } else if (!o.validate) bestEpoch = epoch;
    if (over) {
      stoppedBy = 'time';
      break;
    }
  }
  if (bestWeights) {
    o.vars.forEach((x, i) => x.assign(bestWeights![i]));
    tf.dispose(bestWeights);
  }
  return { history, bestEpoch, best, epochsRun: epoch, seconds: (Date.now() - t0) / 1000, stoppedBy };
}

/** Where an EpochLoss is: the training function's name (for messages), the epoch, and the learning rate. */
export interface EpochLossOptions {
  trainer: string;
  epoch: number;
  learningRate: number;
}

/** The mean training loss of one epoch, weighted by each batch's number of targets. */
export class EpochLoss {
  private sum = 0;
  private count = 0;

  constructor(private readonly o: EpochLossOptions) {}

  /**
   * Read and dispose a batch's mean loss over `weight` targets; `step` is the optimizer steps taken so far (this
   * one included). A NaN or infinite loss is a TrainingError naming the trainer, epoch, step and learning rate.
   */
  add(loss: tf.Scalar, weight: number, step: number): number {
    const v = loss.dataSync()[0];
    loss.dispose();
    if (!Number.isFinite(v))
      throw new TrainingError(
        `${this.o.trainer}: loss is ${v} at epoch ${this.o.epoch}, step ${step} (try a lower learningRate than ${this.o.learningRate})`,
      );
    this.sum += v * weight;
    this.count += weight;
    return v;
  }

  /** The weighted mean of the losses added so far (0 when none had a target). */
  mean(): number {
    return this.sum / Math.max(1, this.count);
  }
}
