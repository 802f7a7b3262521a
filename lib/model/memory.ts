/**
 * Up-front estimate of the peak memory of training, so a configuration that cannot fit in the wasm heap (4 GiB
 * at most; tfjs-backend-wasm cannot grow beyond it) is refused before the first step with the numbers, instead of
 * failing mid-epoch. The terms follow the model of lib/model/build.ts; every size comes from the config and the
 * vocabularies. Activation terms carry a factor measured on the wasm backend (see ACTIVATION_FACTOR).
 */
import { FeatureSizes } from '../data/types';
import { ConfigError } from '../util/errors';
import { BstConfig, modelWidth } from './config';

/** The terms of the estimate, in bytes. */
export interface MemoryTerms {
  /** model weights */
  weights: number;
  /** optimizer state (Adam: m and v; Adagrad: one accumulator) */
  optimizer: number;
  /** gradients of every weight (embedding gradients are dense in tfjs) */
  gradients: number;
  /** per-position activations of the transformer blocks kept for the backward pass ([B, L, D]-sized tensors) */
  activations: number;
  /** attention scores and probabilities, [B, H, L, L] per block */
  attentionScores: number;
  /** MLP activations ([B, features] and [B, units]) */
  mlp: number;
}

/** Result of estimateTrainingMemory. */
export interface MemoryEstimate {
  terms: MemoryTerms;
  /** sum of the terms (bytes) */
  totalBytes: number;
  /** expected wasm heap size: totalBytes x HEAP_FACTOR */
  heapBytes: number;
  /** the largest term */
  dominant: keyof MemoryTerms;
  /** number of weights */
  params: number;
}

/**
 * Activation tensors live during one training step, per element of a [B, L, D] activation and per [B, H, L, L]
 * score, forward and backward together: the tape keeps about 14 + 2 x ffnMult [B, L, D]-sized tensors per block
 * and about 4 score-sized tensors (scores, probs, their gradients).
 */
export const ACTIVATION_FACTOR = { perPosition: 14, perPositionFfn: 2, perScore: 4, perMlp: 4 };

/**
 * Wasm heap size over the sum of the terms, measured (heap byteLength after 2 Adam steps, default config,
 * ml-100k vocabularies): B=256 L=8 99.7 MB vs 45.2 MB (2.2x); B=256 L=32 251.8 vs 144.2 (1.75x); B=64 L=128
 * 746.5 vs 330.8 (2.26x); B=32 L=256 1289.4 vs 585.9 (2.2x). The heap never shrinks and grows with overshoot,
 * and transient tensors fragment it; the largest ratio is used so the check errs on the safe side.
 */
export const HEAP_FACTOR = 2.3;

const F32 = 4;

/** Number of weights of the model buildBst makes for `c` and `sizes`. */
export function countParams(c: BstConfig, sizes: FeatureSizes): number {
  const D = modelWidth(c);
  const L = c.seqLen;
  let p = sizes.numItems * c.embedDim;
  if (c.positionKind === 'learned') p += L * c.posDim;
  if (c.positionKind === 'time') p += c.timeBuckets * c.posDim;
  if (c.useHistoryRatings) p += 11 * c.ratingDim; // half-star ratings 0..5 (a small table)
  const ffn = c.ffnMult * D;
  p += c.numBlocks * (4 * (D * D + D) + (D * ffn + ffn) + (ffn * D + D) + 4 * D);
  let features = L * D;
  if (c.useUserId) ((p += sizes.numUsers * c.userDim), (features += c.userDim));
  if (c.useDemographics) {
    p += (sizes.numGenders + sizes.numAges + sizes.numOccupations + sizes.numZips) * c.demoDim;
    features += 4 * c.demoDim;
  }
  if (c.useGenres) ((p += sizes.numGenres * c.genreDim + c.genreDim), (features += c.genreDim));
  if (c.useYear) ((p += sizes.numYears * c.yearDim), (features += c.yearDim));
  let inDim = features;
  for (const u of [...c.mlpUnits, 1]) {
    p += inDim * u + u;
    inDim = u;
  }
  return p;
}

/** Estimate the peak bytes of one training step of `c` over vocabularies `sizes` (batch c.batchSize). */
export function estimateTrainingMemory(c: BstConfig, sizes: FeatureSizes): MemoryEstimate {
  const params = countParams(c, sizes);
  const B = c.batchSize;
  const L = c.seqLen;
  const D = modelWidth(c);
  const f = ACTIVATION_FACTOR;
  const features =
    L * D +
    (c.useUserId ? c.userDim : 0) +
    (c.useDemographics ? 4 * c.demoDim : 0) +
    (c.useGenres ? c.genreDim : 0) +
    (c.useYear ? c.yearDim : 0);
  const mlpUnits = c.mlpUnits.reduce((a, u) => a + u, 0);
  const terms: MemoryTerms = {
    weights: params * F32,
    optimizer: params * F32 * (c.optimizer === 'adam' ? 2 : 1),
    gradients: params * F32,
    // embedding lookups and concatenation before the blocks, then per block
    activations: B * L * D * F32 * (4 + c.numBlocks * (f.perPosition + f.perPositionFfn * c.ffnMult)),
    attentionScores: B * c.numHeads * L * L * F32 * f.perScore * c.numBlocks,
    mlp: B * (features + mlpUnits) * F32 * f.perMlp,
  };
  let dominant: keyof MemoryTerms = 'weights';
  for (const k of Object.keys(terms) as Array<keyof MemoryTerms>) if (terms[k] > terms[dominant]) dominant = k;
  const totalBytes = Object.values(terms).reduce((a, b) => a + b, 0);
  return { terms, totalBytes, heapBytes: totalBytes * HEAP_FACTOR, dominant, params };
}

const MB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

/**
 * Refuse a configuration whose estimated heap (heapBytes) exceeds `limitBytes` (the wasm heap limit, or a budget),
 * with a ConfigError giving the estimate, the limit, the dominant term and a batch size / sequence length that
 * would fit. Returns the estimate otherwise.
 */
export function checkTrainingMemory(
  c: BstConfig,
  sizes: FeatureSizes,
  opts: { limitBytes: number; what?: string },
): MemoryEstimate {
  const est = estimateTrainingMemory(c, sizes);
  if (est.heapBytes <= opts.limitBytes) return est;
  let batch = c.batchSize;
  while (batch > 1 && estimateTrainingMemory({ ...c, batchSize: batch }, sizes).heapBytes > opts.limitBytes)
    batch = Math.floor(batch / 2);
  let seqLen = c.seqLen;
  while (seqLen > 1 && estimateTrainingMemory({ ...c, seqLen }, sizes).heapBytes > opts.limitBytes)
    seqLen = Math.floor(seqLen / 2);
  const fitsBatch = estimateTrainingMemory({ ...c, batchSize: batch }, sizes).heapBytes <= opts.limitBytes;
  const fitsSeq = estimateTrainingMemory({ ...c, seqLen }, sizes).heapBytes <= opts.limitBytes;
  const terms = (Object.keys(est.terms) as Array<keyof MemoryTerms>).map((k) => `${k} ${MB(est.terms[k])}`).join(', ');
  throw new ConfigError(
    `config batchSize=${c.batchSize}, seqLen=${c.seqLen}: training needs an estimated ${MB(est.heapBytes)} of heap (${MB(est.totalBytes)} of tensors x ${HEAP_FACTOR}), ` +
      `more than the ${opts.what ?? 'memory limit'} of ${MB(opts.limitBytes)}; the largest term is ${est.dominant} ` +
      `(${MB(est.terms[est.dominant])}; ${terms}). ` +
      [fitsBatch ? `batchSize=${batch} would fit` : '', fitsSeq ? `seqLen=${seqLen} would fit` : '']
        .filter((s) => s)
        .join(', or ') +
      (fitsBatch || fitsSeq ? '' : 'shrink the vocabularies or embedding widths'),
  );
}
