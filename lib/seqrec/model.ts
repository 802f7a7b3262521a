/**
 * A SASRec-style causal sequence model (Kang & McAuley 2018): item embedding (shared with the output layer)
 * plus learned positions, `blocks` pre-norm causal self-attention blocks with a feed-forward layer, a final
 * layer norm. The hidden state at position t predicts the item at t + 1 by a dot product with every item
 * embedding (full softmax). Inputs are left-padded with 0, which is masked out.
 *
 * Built from plain tf ops plus lib/model/layers ops (layerNorm, dense3d, seededDropout): the fused attention
 * kernel has no causal mask, so attention is written out here (cheap at L = 50).
 */
import * as tf from '@tensorflow/tfjs';
import { dense3d, layerNorm, seededDropout } from '../model/layers/ops';
import { Rng } from '../util/rng';
import { SeqRecConfig } from './config';

const LN_EPS = 1e-6;

/** Weights of one block. */
interface BlockWeights {
  ln1g: tf.Variable;
  ln1b: tf.Variable; // [D]
  wq: tf.Variable;
  bq: tf.Variable;
  wk: tf.Variable;
  bk: tf.Variable; // [D, D], [D]
  wv: tf.Variable;
  bv: tf.Variable;
  wo: tf.Variable;
  bo: tf.Variable;
  ln2g: tf.Variable;
  ln2b: tf.Variable;
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable; // [D, D], [D]
}

/** A SeqRec model: its config, catalogue size and variables. */
export interface SeqRecModel {
  config: SeqRecConfig;
  /** catalogue size including index 0 (padding/unknown) */
  numItems: number;
  itemEmb: tf.Variable; // [V, D]
  posEmb: tf.Variable; // [L, D]
  blocks: BlockWeights[];
  lnFg: tf.Variable;
  lnFb: tf.Variable; // [D]
  /** every trainable variable, in a fixed order */
  vars: tf.Variable[];
}

function normalVar(rng: Rng, shape: number[], std: number, name: string): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * std;
  return tf.tidy(() => tf.variable(tf.tensor(v, shape), true, name));
}

/** models created so far: makes variable names unique when two models share a seed */
let created = 0;

/** A new model with seeded Xavier-normal weights; numItems comes from the split (catalogue incl. index 0). */
export function createSeqRec(config: SeqRecConfig, numItems: number): SeqRecModel {
  const { dim: D, maxLen: L } = config;
  const rng = new Rng(config.seed);
  const uid = `seqrec${created++}_${config.seed}`;
  const xavier = (a: number, b: number) => Math.sqrt(2 / (a + b));
  const ones = (name: string) => tf.tidy(() => tf.variable(tf.ones([D]), true, `${uid}/${name}`));
  const zeros = (name: string) => tf.tidy(() => tf.variable(tf.zeros([D]), true, `${uid}/${name}`));
  const square = (name: string) => normalVar(rng, [D, D], xavier(D, D), `${uid}/${name}`);
  const itemEmb = normalVar(rng, [numItems, D], xavier(numItems, D), `${uid}/itemEmb`);
  const posEmb = normalVar(rng, [L, D], xavier(L, D), `${uid}/posEmb`);
  const blocks: BlockWeights[] = [];
  for (let b = 0; b < config.blocks; b++) {
    const p = `b${b}`;
    blocks.push({
      ln1g: ones(`${p}/ln1g`),
      ln1b: zeros(`${p}/ln1b`),
      wq: square(`${p}/wq`),
      bq: zeros(`${p}/bq`),
      wk: square(`${p}/wk`),
      bk: zeros(`${p}/bk`),
      wv: square(`${p}/wv`),
      bv: zeros(`${p}/bv`),
      wo: square(`${p}/wo`),
      bo: zeros(`${p}/bo`),
      ln2g: ones(`${p}/ln2g`),
      ln2b: zeros(`${p}/ln2b`),
      w1: square(`${p}/w1`),
      b1: zeros(`${p}/b1`),
      w2: square(`${p}/w2`),
      b2: zeros(`${p}/b2`),
    });
  }
  const lnFg = ones('lnFg');
  const lnFb = zeros('lnFb');
  const vars: tf.Variable[] = [itemEmb, posEmb];
  for (const b of blocks) vars.push(...(Object.values(b) as tf.Variable[]));
  vars.push(lnFg, lnFb);
  return { config, numItems, itemEmb, posEmb, blocks, lnFg, lnFb, vars };
}

/** Free the model's variables. */
export function disposeSeqRec(m: SeqRecModel): void {
  tf.dispose(m.vars);
}

/** [B, L, D] -> [B, H, L, D/H] */
function splitHeads(x: tf.Tensor, H: number): tf.Tensor {
  const [, L, D] = x.shape;
  return tf.transpose(tf.reshape(x, [-1, L, H, (D as number) / H]), [0, 2, 1, 3]); // [B, H, L, dh]
}

/** Causal multi-head self-attention: position i attends to real positions j <= i. */
function causalAttention(
  x: tf.Tensor,
  keyBias: tf.Tensor,
  causalBias: tf.Tensor,
  b: BlockWeights,
  H: number,
): tf.Tensor {
  const [, L, D] = x.shape as number[];
  const dh = D / H;
  const q = splitHeads(dense3d(x, b.wq, b.bq), H); // [B, H, L, dh]
  const k = splitHeads(dense3d(x, b.wk, b.bk), H); // [B, H, L, dh]
  const v = splitHeads(dense3d(x, b.wv, b.bv), H); // [B, H, L, dh]
  const kT = tf.transpose(k, [0, 1, 3, 2]); // [B, H, dh, L]
  const scores = tf.add(tf.add(tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(dh)), causalBias), keyBias); // [B, H, L, L]
  const ctx = tf.matMul(tf.softmax(scores), v); // [B, H, L, dh]
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [-1, L, D]); // [B, L, D]
  return dense3d(merged, b.wo, b.bo); // [B, L, D]
}

/**
 * Hidden states [B, L, D] of left-padded item ids [B, L] (int32, 0 = padding). `dropoutSeed` set: training
 * mode (dropout on, masks from the seed); undefined: inference.
 */
export function seqRecHidden(m: SeqRecModel, ids: tf.Tensor2D, dropoutSeed?: string): tf.Tensor3D {
  const { dim: D, heads: H, dropout } = m.config;
  const L = ids.shape[1];
  const drop = (t: tf.Tensor, salt: string) =>
    dropoutSeed !== undefined ? seededDropout(t, dropout, `${dropoutSeed}/${salt}`) : t;
  const mask = tf.cast(tf.greater(ids, 0), 'float32'); // [B, L]
  const mask3 = tf.expandDims(mask, 2); // [B, L, 1]
  const keyBias = tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [-1, 1, 1, L]); // [B, 1, 1, L]
  const causalBias = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([L, L]), -1, 0)), -1e9); // [L, L], 0 on and below the diagonal
  const pos = tf.slice(m.posEmb, [m.config.maxLen - L, 0], [L, D]); // [L, D] (right-aligned positions)
  let x: tf.Tensor = tf.add(tf.mul(tf.gather(m.itemEmb, ids), Math.sqrt(D)), pos); // [B, L, D]
  x = tf.mul(drop(x, 'emb'), mask3); // [B, L, D]
  m.blocks.forEach((b, i) => {
    const a = causalAttention(layerNorm(x, b.ln1g, b.ln1b, LN_EPS), keyBias, causalBias, b, H); // [B, L, D]
    x = tf.add(x, drop(a, `a${i}`)); // [B, L, D]
    const h = layerNorm(x, b.ln2g, b.ln2b, LN_EPS); // [B, L, D]
    const f = dense3d(drop(tf.relu(dense3d(h, b.w1, b.b1)), `f${i}`), b.w2, b.b2); // [B, L, D]
    x = tf.mul(tf.add(x, drop(f, `g${i}`)), mask3); // [B, L, D]
  });
  return layerNorm(x, m.lnFg, m.lnFb, LN_EPS) as tf.Tensor3D; // [B, L, D]
}

/** Logits [N, V] of hidden states [N, D] against every item; index 0 (padding) gets -1e9. */
export function seqRecLogits(m: SeqRecModel, h: tf.Tensor2D): tf.Tensor2D {
  const V = m.numItems;
  const logits = tf.matMul(h, tf.transpose(m.itemEmb)); // [N, V] (explicit transpose: wasm's transposed matmul is slow)
  const padBias = tf.concat([tf.fill([1], -1e9), tf.zeros([V - 1])]); // [V]
  return tf.add(logits, padBias) as tf.Tensor2D; // [N, V]
}

/** Left-pad (or cut to) the last `L` items of each sequence: Int32Array [B * L]. */
export function padLeft(seqs: ArrayLike<number>[], L: number): Int32Array {
  const out = new Int32Array(seqs.length * L);
  seqs.forEach((s, r) => {
    const n = Math.min(L, s.length);
    for (let i = 0; i < n; i++) out[r * L + L - n + i] = s[s.length - n + i];
  });
  return out;
}

/** Next-item scores [inputs.length * numItems] from the last hidden state of each input (inference mode). */
export function seqRecScores(m: SeqRecModel, inputs: Int32Array[], batchSize = 256): Float32Array {
  const L = m.config.maxLen;
  const V = m.numItems;
  const out = new Float32Array(inputs.length * V);
  for (let s = 0; s < inputs.length; s += batchSize) {
    const part = inputs.slice(s, s + batchSize);
    const scores = tf.tidy(() => {
      const ids = tf.tensor2d(padLeft(part, L), [part.length, L], 'int32'); // [B, L]
      const h = seqRecHidden(m, ids); // [B, L, D]
      const last = tf.reshape(tf.slice(h, [0, L - 1, 0], [-1, 1, -1]), [part.length, m.config.dim]) as tf.Tensor2D; // [B, D]
      return seqRecLogits(m, last); // [B, V]
    });
    out.set(scores.dataSync() as Float32Array, s * V);
    scores.dispose();
  }
  return out;
}
