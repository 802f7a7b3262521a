/** The shared epoch loop (lib/train/epochs.ts): validation schedule, patience, time budget, best weights restored. */
import * as tf from '@tensorflow/tfjs';
import { EpochLoss, EpochSchedule, runEpochs } from '../../lib/train/epochs';
import { TrainingError } from '../../lib/util/errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A "model" whose one weight is the number of the last trained epoch; validation scores come from `scores[epoch]`. */
function fakeRun(schedule: EpochSchedule, scores: number[] | undefined, epochMs = 0) {
  const w = tf.variable(tf.scalar(0)); // []
  const lines: string[] = [];
  const trained: number[] = [];
  const r = runEpochs({
    schedule,
    vars: [w],
    trainEpoch: (epoch) => {
      trained.push(epoch);
      w.assign(tf.scalar(epoch));
      const until = Date.now() + epochMs;
      while (Date.now() < until); // a slow epoch
      return 10 - epoch;
    },
    validate: scores ? () => ({ score: scores[w.dataSync()[0]] }) : undefined,
    score: (rec) => rec.score,
    describe: (rec, improved) => `epoch ${rec.epoch}: loss ${rec.trainLoss} score ${rec.score}${improved ? ' *' : ''}`,
    log: (l) => lines.push(l),
  });
  const weight = w.dataSync()[0];
  w.dispose();
  return { r, lines, trained, weight };
}

test('patience stops after that many validations without improvement; the best weights are restored', () => {
  const { r, lines, trained, weight } = fakeRun(
    { epochs: 10, evalEvery: 1, patience: 2, maxSeconds: 0 },
    [0, 0.1, 0.3, 0.2, 0.3, 0.5],
  );
  expect(trained).toEqual([1, 2, 3, 4]); // 3 and 4 do not beat 0.3 (equal is no improvement)
  expect(r.stoppedBy).toBe('patience');
  expect([r.bestEpoch, r.best?.score, r.epochsRun]).toEqual([2, 0.3, 4]);
  expect(weight).toBe(2); // epoch 2's weights, not the last epoch's
  expect(r.history.map((h) => [h.epoch, h.trainLoss, h.score])).toEqual([
    [1, 9, 0.1],
    [2, 8, 0.3],
    [3, 7, 0.2],
    [4, 6, 0.3],
  ]);
  expect(lines).toEqual([
    'epoch 1: loss 9 score 0.1 *',
    'epoch 2: loss 8 score 0.3 *',
    'epoch 3: loss 7 score 0.2',
    'epoch 4: loss 6 score 0.3',
  ]);
});

test('evalEvery validates every n epochs and after the last; patience 0 never stops early', () => {
  const { r, weight } = fakeRun({ epochs: 5, evalEvery: 2, patience: 0, maxSeconds: 0 }, [0, 9, 0.4, 9, 0.2, 0.1]);
  expect(r.history.map((h) => h.epoch)).toEqual([2, 4, 5]);
  expect([r.stoppedBy, r.epochsRun, r.bestEpoch, weight]).toEqual(['epochs', 5, 2, 2]);
});

test('without validation every epoch runs, the last is "best" and the weights stay the last ones', () => {
  const { r, lines, weight } = fakeRun({ epochs: 3, evalEvery: 1, patience: 1, maxSeconds: 0 }, undefined);
  expect([r.history.length, r.bestEpoch, r.best, r.epochsRun, r.stoppedBy, weight]).toEqual([
    0,
    3,
    undefined,
    3,
    'epochs',
    3,
  ]);
  expect(lines).toEqual([]);
});

test('the time budget stops after the epoch that passes it, validating that epoch first', () => {
  const { r, trained } = fakeRun({ epochs: 10, evalEvery: 5, patience: 0, maxSeconds: 0.005 }, [0, 0.1, 0.2], 10);
  expect(trained).toEqual([1]);
  expect(r.stoppedBy).toBe('time');
  expect(r.history.map((h) => h.epoch)).toEqual([1]); // validated although 1 % evalEvery != 0
  expect(r.seconds).toBeGreaterThanOrEqual(0.005);
});

test('EpochLoss: the target-weighted mean of the batch losses; a NaN loss is a TrainingError naming where', () => {
  const m = new EpochLoss({ trainer: 'trainX', epoch: 3, learningRate: 0.01 });
  expect(m.mean()).toBe(0);
  const before = tf.memory().numTensors;
  m.add(tf.scalar(2), 3, 1);
  m.add(tf.scalar(4), 1, 2);
  expect(tf.memory().numTensors).toBe(before); // each loss is disposed
  expect(m.mean()).toBe((2 * 3 + 4 * 1) / 4);
  expect(() => m.add(tf.scalar(NaN), 2, 7)).toThrow(TrainingError);
  expect(() => m.add(tf.scalar(Infinity), 2, 8)).toThrow(
    'trainX: loss is Infinity at epoch 3, step 8 (try a lower learningRate than 0.01)',
  );
});
