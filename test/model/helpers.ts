import * as tf from '@tensorflow/tfjs';
import { BstConfig } from '../../lib/model/config';

/** Tiny model config for fast tests: D = 4 + 2 + 2 = 8, 2 heads, L = 5. */
export function tinyConfig(over: Partial<BstConfig> = {}): Partial<BstConfig> {
  return {
    seqLen: 5,
    embedDim: 4,
    posDim: 2,
    ratingDim: 2,
    numHeads: 2,
    numBlocks: 1,
    ffnMult: 2,
    mlpUnits: [16, 8],
    userDim: 3,
    demoDim: 2,
    genreDim: 3,
    yearDim: 2,
    batchSize: 32,
    epochs: 3,
    patience: 2,
    dropout: 0.1,
    seed: 7,
    ...over,
  };
}

/** Use the cpu backend (tests run with tiny vocabularies). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Max absolute difference of two arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
