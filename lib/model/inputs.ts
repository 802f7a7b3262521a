/** Samples (lib/data/types.ts) -> the model's named input tensors and labels. */
import * as tf from '@tensorflow/tfjs';
import { FeatureSizes, Samples } from '../data/types';
import { ConfigError, DataError } from '../util/errors';
import { BstConfig } from './config';

/** One model input: name, per-sample shape and dtype. */
export interface InputSpec {
  name: keyof Samples & string;
  shape: number[];
  dtype: 'int32' | 'float32';
  /** For id inputs: the vocabulary size (ids must be < vocab). */
  vocab?: number;
}

/** The inputs the config enables, in the model's input order (derived from config + vocabularies). */
export function inputSpecs(config: BstConfig, sizes: FeatureSizes): InputSpec[] {
  const L = config.seqLen;
  const specs: InputSpec[] = [{ name: 'itemSeq', shape: [L], dtype: 'int32', vocab: sizes.numItems }];
  if (config.useHistoryRatings) specs.push({ name: 'ratingSeq', shape: [L], dtype: 'float32' });
  if (config.positionKind === 'time') specs.push({ name: 'timeDelta', shape: [L], dtype: 'float32' });
  if (config.useUserId) specs.push({ name: 'userIdx', shape: [1], dtype: 'int32', vocab: sizes.numUsers });
  if (config.useDemographics) {
    specs.push({ name: 'gender', shape: [1], dtype: 'int32', vocab: sizes.numGenders });
    specs.push({ name: 'age', shape: [1], dtype: 'int32', vocab: sizes.numAges });
    specs.push({ name: 'occupation', shape: [1], dtype: 'int32', vocab: sizes.numOccupations });
    specs.push({ name: 'zip', shape: [1], dtype: 'int32', vocab: sizes.numZips });
  }
  if (config.useGenres) {
    if (!(sizes.numGenres >= 1)) throw new ConfigError(`useGenres=true but FeatureSizes.numGenres=${sizes.numGenres}`);
    specs.push({ name: 'genres', shape: [sizes.numGenres], dtype: 'float32' });
  }
  if (config.useYear) specs.push({ name: 'yearIdx', shape: [1], dtype: 'int32', vocab: sizes.numYears });
  return specs;
}

/** Throw a DataError when a batch does not fit the config/vocabularies (wrong L, id out of range, bad rating). */
export function checkSamples(samples: Samples, config: BstConfig, sizes: FeatureSizes): void {
  const n = samples.n;
  if (samples.seqLen !== config.seqLen) {
    throw new DataError(`Samples.seqLen=${samples.seqLen} but config seqLen=${config.seqLen}`);
  }
  for (const spec of inputSpecs(config, sizes)) {
    const arr = samples[spec.name] as ArrayLike<number>;
    const want = n * spec.shape.reduce((a, b) => a * b, 1);
    if (!arr || arr.length !== want)
      throw new DataError(
        `Samples.${spec.name} has ${arr ? arr.length : 'no'} values, expected ${want} (n=${n} x ${spec.shape})`,
      );
    const vocab = spec.vocab;
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (vocab !== undefined ? !(v >= 0 && v < vocab && Number.isInteger(v)) : !Number.isFinite(v)) {
        const per = spec.shape.reduce((a, b) => a * b, 1);
        throw new DataError(
          `Samples.${spec.name}[sample ${Math.floor(i / per)}] = ${v}` +
            (vocab !== undefined ? ` outside vocabulary 0..${vocab - 1}` : ' is not finite'),
        );
      }
    }
  }
  if (config.useHistoryRatings) {
    for (let i = 0; i < samples.ratingSeq.length; i++) {
      const r = samples.ratingSeq[i];
      if (r < 0 || r > 5)
        throw new DataError(`Samples.ratingSeq[sample ${Math.floor(i / samples.seqLen)}] = ${r} outside 0..5`);
    }
  }
}

/** The model's input tensors for a batch, in inputSpecs order (the caller disposes them). */
export function samplesToInputs(samples: Samples, sizes: FeatureSizes, config: BstConfig): tf.Tensor[] {
  checkSamples(samples, config, sizes);
  return inputSpecs(config, sizes).map(
    (s) => tf.tensor(samples[s.name] as Int32Array | Float32Array, [samples.n, ...s.shape], s.dtype), // [n, ...shape]
  );
}

/** Labels [n, 1] for the config's task: the rating ('rating') or 1/0 liked ('like'). */
export function samplesToLabels(samples: Samples, config: BstConfig): tf.Tensor2D {
  const y = config.task === 'rating' ? samples.rating : samples.liked;
  return tf.tensor2d(y, [samples.n, 1]); // [n, 1]
}

/** Label values of a batch for the config's task (no tensors). */
export function labelsOf(samples: Samples, config: BstConfig): Float32Array {
  return config.task === 'rating' ? samples.rating : samples.liked;
}
