/** Plain tensor functions shared by the BST layers (no weights of their own; every op has a wasm/cpu kernel). */
import * as tf from '@tensorflow/tfjs';
import {
  ATTENTION,
  denseLeakyRelu,
  DROPOUT,
  fusedAttention,
  fusedDropout,
  fusedLayerNorm,
  hasFused,
  LAYER_NORM,
  LEAKY_RELU_GRAD,
} from '../../kernels/fused';

/**
 * Layer normalisation over the last axis: one fused kernel (forward and gradient) when the backend has bst-lab's
 * (lib/kernels/fused), else broadcasting ops only (no tile: its gradient is cheap).
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  if (hasFused(LAYER_NORM)) return fusedLayerNorm(x, gamma, beta, epsilon); // [..., D]
  return broadcastLayerNorm(x, gamma, beta, epsilon);
}

/** Layer normalisation over the last axis with broadcasting tfjs ops (the reference for the fused kernel). */
export function broadcastLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const mean = tf.mean(x, -1, true); // [..., 1]
  const centered = tf.sub(x, mean); // [..., D]
  const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))); // [..., D]
  return tf.add(tf.mul(normed, gamma), beta); // [..., D] (gamma, beta: [D])
}

/** x [B, L, Din] @ w [Din, Dout] + b [Dout] -> [B, L, Dout]; no batch size baked in. */
export function dense3d(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const [, L, dIn] = x.shape;
  const dOut = w.shape[1];
  const flat = tf.reshape(x, [-1, dIn]) as tf.Tensor2D; // [B*L, Din]
  const y = b ? tf.fused.matMul({ a: flat, b: w as tf.Tensor2D, bias: b }) : tf.matMul(flat, w as tf.Tensor2D); // [B*L, Dout]
  return tf.reshape(y, [-1, L, dOut as number]); // [B, L, Dout]
}

/** leakyRelu(x [B, L, Din] @ w + b) -> [B, L, Dout]: one fused kernel (and a fused gradient) where the backend has them. */
export function dense3dLeakyRelu(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, alpha: number): tf.Tensor {
  if (!hasFused(LEAKY_RELU_GRAD)) return tf.leakyRelu(dense3d(x, w, b), alpha);
  const [, L, dIn] = x.shape;
  const y = denseLeakyRelu(tf.reshape(x, [-1, dIn]) as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, alpha); // [B*L, Dout]
  return tf.reshape(y, [-1, L, w.shape[1] as number]); // [B, L, Dout]
}

/**
 * Dropout with an explicit seed string: identical masks for identical seeds, so seeded runs repeat.
 * Callers vary the seed per step (seed + salt + step counter).
 */
export function seededDropout(x: tf.Tensor, rate: number, seed: string): tf.Tensor {
  if (rate <= 0) return x;
  if (hasFused(DROPOUT)) return fusedDropout(x, rate, seed); // one kernel; a hash mask instead of tfjs's generator
  const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate), 'float32'); // [...x]
  return tf.mul(x, tf.mul(keep, 1 / (1 - rate)));
}

/** Weights of one multi-head self-attention. */
export interface AttentionWeights {
  wq: tf.Tensor;
  bq: tf.Tensor; // [D, D], [D]
  wk: tf.Tensor;
  bk: tf.Tensor;
  wv: tf.Tensor;
  bv: tf.Tensor;
  wo: tf.Tensor;
  bo: tf.Tensor;
}

/** [B, L, D] -> [B, H, L, D/H] */
function splitHeads(x: tf.Tensor, numHeads: number): tf.Tensor {
  const [, L, D] = x.shape;
  return tf.transpose(tf.reshape(x, [-1, L, numHeads, D / numHeads]), [0, 2, 1, 3]); // [B, H, L, dh]
}

/**
 * Scaled dot-product attention probabilities per head. Attention runs over the L positions of each sample,
 * never across the batch. `mask` [B, L] is 1 for real positions, 0 for padding (keys at 0 get no weight).
 * Returns the probabilities [B, H, L, L] and the value heads [B, H, L, dh].
 */
export function attentionProbs(
  x: tf.Tensor,
  mask: tf.Tensor,
  w: AttentionWeights,
  numHeads: number,
): { probs: tf.Tensor; v: tf.Tensor } {
  const D = x.shape[2] as number;
  const dh = D / numHeads;
  const q = splitHeads(dense3d(x, w.wq, w.bq), numHeads); // [B, H, L, dh]
  const k = splitHeads(dense3d(x, w.wk, w.bk), numHeads); // [B, H, L, dh]
  const v = splitHeads(dense3d(x, w.wv, w.bv), numHeads); // [B, H, L, dh]
  const kT = tf.transpose(k, [0, 1, 3, 2]); // [B, H, dh, L] (explicit: wasm's transposed matmul is slow)
  const scores = tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(dh)); // [B, H, L, L]
  const L = mask.shape[1] as number;
  const keyBias = tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [-1, 1, 1, L]); // [B, 1, 1, L]
  const probs = tf.softmax(tf.add(scores, keyBias)); // [B, H, L, L] rows sum to 1 over valid keys
  return { probs, v };
}

/** Multi-head self-attention: softmax(QK^T / sqrt(dh) + mask) V, heads concatenated, output projection. */
export function multiHeadSelfAttention(
  x: tf.Tensor,
  mask: tf.Tensor,
  w: AttentionWeights,
  numHeads: number,
): tf.Tensor {
  const [, L, D] = x.shape;
  if (hasFused(ATTENTION)) {
    // one kernel for the heads' softmax attention (and one for its gradient) instead of ~16 (and ~30)
    const ctx = fusedAttention(dense3d(x, w.wq, w.bq), dense3d(x, w.wk, w.bk), dense3d(x, w.wv, w.bv), mask, numHeads); // [B, L, D]
    return dense3d(ctx, w.wo, w.bo); // [B, L, D]
  }
  const { probs, v } = attentionProbs(x, mask, w, numHeads);
  const ctx = tf.matMul(probs, v); // [B, H, L, dh]
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [-1, L, D]); // [B, L, D]
  return dense3d(merged, w.wo, w.bo); // [B, L, D]
}
