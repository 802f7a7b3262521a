/**
 * Fused training ops: one kernel where tfjs runs many small ones.
 *
 * - `BstLayerNorm` / `BstLayerNormGrad`: layer normalisation over the last axis and its gradient (the
 *   broadcasting formulation costs ~12 kernels forward and ~25 backward).
 * - `BstLeakyReluGrad`: dy * (x > 0 ? 1 : alpha) in one pass (tfjs: Greater, Mul, Select).
 * - `BstAdam`: tfjs's Adam update of one variable in one pass (tfjs: ~12 kernels per variable).
 * - `BstDropout`: seeded dropout from a counter-based hash (tfjs: a JavaScript generator per element, then
 *   GreaterEqual, Cast and two Multiplies); its gradient is the same kernel on dy.
 * - `BstAttention` / `BstAttentionGrad`: multi-head softmax(q k^T / sqrt(dh) + mask) v over each sample's L
 *   positions from projected q, k, v [B, L, D] (tfjs: ~16 kernels forward, ~30 backward).
 *
 * Each is registered for the wasm backend (bst-lab's C, lib/kernels/native) and for the cpu backend (the plain
 * JavaScript reference below, which the tests also compare the C against). Model code calls `layerNormOp`,
 * the LeakyRelu gradient and `FusedAdamOptimizer`, which use the fused kernel when the active backend has one
 * and tfjs's own ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { NativeKernels, nativeFor } from './native-module';

export const LAYER_NORM = 'BstLayerNorm';
export const LAYER_NORM_GRAD = 'BstLayerNormGrad';
export const LEAKY_RELU_GRAD = 'BstLeakyReluGrad';
export const ADAM = 'BstAdam';
export const DROPOUT = 'BstDropout';
export const ATTENTION = 'BstAttention';
export const ATTENTION_GRAD = 'BstAttentionGrad';
/** Every fused kernel name. */
export const FUSED_KERNELS = [LAYER_NORM, LAYER_NORM_GRAD, LEAKY_RELU_GRAD, ADAM, DROPOUT, ATTENTION, ATTENTION_GRAD];

const prod = (s: number[]) => s.reduce((a, d) => a * d, 1);

interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Plain references (cpu backend)                                                                              */
/* ---------------------------------------------------------------------------------------------------------- */

/** Reference layer norm over rows of length d; returns y, mean and rstd (1 / sqrt(var + eps)). */
export function layerNormRef(x: Float32Array, gamma: Float32Array, beta: Float32Array, d: number, eps: number) {
  const rows = d === 0 ? 0 : x.length / d;
  const y = new Float32Array(x.length);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let mu = 0;
    for (let j = 0; j < d; j++) mu += x[r * d + j];
    mu /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(v / d + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < d; j++) y[r * d + j] = (x[r * d + j] - mu) * rs * gamma[j] + beta[j];
  }
  return { y, mean, rstd };
}

/** Reference gradient of layerNormRef: dx, dgamma, dbeta. */
export function layerNormGradRef(
  dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, d: number,
) {
  const rows = d === 0 ? 0 : x.length / d;
  const dx = new Float32Array(x.length);
  const dgamma = new Float32Array(d);
  const dbeta = new Float32Array(d);
  for (let r = 0; r < rows; r++) {
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < d; j++) {
      const xh = (x[r * d + j] - mean[r]) * rstd[r];
      const g = dy[r * d + j] * gamma[j];
      sg += g;
      sgx += g * xh;
      dgamma[j] += dy[r * d + j] * xh;
      dbeta[j] += dy[r * d + j];
    }
    for (let j = 0; j < d; j++) {
      const xh = (x[r * d + j] - mean[r]) * rstd[r];
      dx[r * d + j] = rstd[r] * (dy[r * d + j] * gamma[j] - sg / d - (xh * sgx) / d);
    }
  }
  return { dx, dgamma, dbeta };
}

type AdamAttrs = { lr: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number };

/** Reference Adam step (tfjs's formulation) on plain arrays. */
export function adamRef(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, a: AdamAttrs) {
  const p2 = new Float32Array(p.length);
  const m2 = new Float32Array(p.length);
  const v2 = new Float32Array(p.length);
  for (let j = 0; j < p.length; j++) {
    m2[j] = m[j] * a.beta1 + g[j] * (1 - a.beta1);
    v2[j] = v[j] * a.beta2 + g[j] * g[j] * (1 - a.beta2);
    p2[j] = p[j] - ((m2[j] / a.c1) / (Math.sqrt(v2[j] / a.c2) + a.epsilon)) * a.lr;
  }
  return { p2, m2, v2 };
}

/** 32-bit FNV-1a hash of a seed string (the dropout kernels' seed). */
export function seedHash(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Reference dropout, bit-identical to bst_dropout: element j kept when its hash u(j) >= rate, scaled by 1 / (1 - rate). */
export function dropoutRef(x: Float32Array, seed: number, rate: number): Float32Array {
  const y = new Float32Array(x.length);
  const r = Math.fround(rate);
  const scale = Math.fround(1 / (1 - rate));
  for (let j = 0; j < x.length; j++) {
    const h = mix32((Math.imul(j, 0x9e3779b9) + seed) >>> 0);
    const u = (h >>> 8) / 16777216;
    y[j] = u >= r ? Math.fround(x[j] * scale) : 0;
  }
  return y;
}

/** Reference attention: ctx [B, L, D] and probs [B, H, L, L] (see bst_attention in bst_kernels.c). */
export function attentionRef(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array, B: number, L: number, D: number, H: number) {
  const dh = D / H;
  const scale = 1 / Math.sqrt(dh);
  const ctx = new Float32Array(B * L * D);
  const probs = new Float32Array(B * H * L * L);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const p = probs.subarray(((b * H + h) * L + i) * L, ((b * H + h) * L + i + 1) * L);
        let mx = -Infinity;
        for (let j = 0; j < L; j++) {
          let sc = 0;
          for (let e = 0; e < dh; e++) sc += q[(b * L + i) * D + h * dh + e] * k[(b * L + j) * D + h * dh + e];
          p[j] = sc * scale + (1 - mask[b * L + j]) * -1e9;
          mx = Math.max(mx, p[j]);
        }
        let z = 0;
        for (let j = 0; j < L; j++) z += (p[j] = Math.exp(p[j] - mx));
        for (let j = 0; j < L; j++) {
          p[j] /= z;
          for (let e = 0; e < dh; e++) ctx[(b * L + i) * D + h * dh + e] += p[j] * v[(b * L + j) * D + h * dh + e];
        }
      }
    }
  }
  return { ctx, probs };
}

/** Reference gradient of attentionRef: dq, dk, dv [B, L, D]. */
export function attentionGradRef(dctx: Float32Array, probs: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, B: number, L: number, D: number, H: number) {
  const dh = D / H;
  const scale = 1 / Math.sqrt(dh);
  const dq = new Float32Array(B * L * D);
  const dk = new Float32Array(B * L * D);
  const dv = new Float32Array(B * L * D);
  const at = (b: number, i: number, h: number, e: number) => (b * L + i) * D + h * dh + e;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const p = (j: number) => probs[((b * H + h) * L + i) * L + j];
        const dP = new Float64Array(L);
        let dot = 0;
        for (let j = 0; j < L; j++) {
          for (let e = 0; e < dh; e++) {
            dP[j] += dctx[at(b, i, h, e)] * v[at(b, j, h, e)];
            dv[at(b, j, h, e)] += p(j) * dctx[at(b, i, h, e)];
          }
          dot += p(j) * dP[j];
        }
        for (let j = 0; j < L; j++) {
          const ds = p(j) * (dP[j] - dot) * scale;
          for (let e = 0; e < dh; e++) {
            dq[at(b, i, h, e)] += ds * k[at(b, j, h, e)];
            dk[at(b, j, h, e)] += ds * q[at(b, i, h, e)];
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}

const f32 = (b: CpuBackendLike, t: tf.TensorInfo) => b.readSync(t.dataId) as Float32Array;

const cpuKernels: Record<string, tf.KernelFunc> = {
  [LAYER_NORM]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const d = x.shape[x.shape.length - 1];
    const r = layerNormRef(f32(b, x), f32(b, inputs.gamma as tf.TensorInfo), f32(b, inputs.beta as tf.TensorInfo), d, (attrs as { epsilon: number }).epsilon);
    return [b.makeTensorInfo(x.shape, 'float32', r.y), b.makeTensorInfo([r.mean.length], 'float32', r.mean), b.makeTensorInfo([r.rstd.length], 'float32', r.rstd)];
  },
  [LAYER_NORM_GRAD]: ({ inputs, backend }) => {
    const b = backend as unknown as CpuBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const d = x.shape[x.shape.length - 1];
    const r = layerNormGradRef(
      f32(b, inputs.dy as tf.TensorInfo), f32(b, x), f32(b, inputs.gamma as tf.TensorInfo),
      f32(b, inputs.mean as tf.TensorInfo), f32(b, inputs.rstd as tf.TensorInfo), d,
    );
    return [b.makeTensorInfo(x.shape, 'float32', r.dx), b.makeTensorInfo([d], 'float32', r.dgamma), b.makeTensorInfo([d], 'float32', r.dbeta)];
  },
  [LEAKY_RELU_GRAD]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const dy = f32(b, inputs.dy as tf.TensorInfo);
    const x = f32(b, inputs.x as tf.TensorInfo);
    const alpha = (attrs as { alpha: number }).alpha;
    const dx = new Float32Array(dy.length);
    for (let j = 0; j < dx.length; j++) dx[j] = x[j] > 0 ? dy[j] : alpha * dy[j];
    return b.makeTensorInfo((inputs.x as tf.TensorInfo).shape, 'float32', dx);
  },
  [ATTENTION]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const r = attentionRef(f32(b, q), f32(b, inputs.k as tf.TensorInfo), f32(b, inputs.v as tf.TensorInfo), f32(b, inputs.mask as tf.TensorInfo), B, L, D, H);
    return [b.makeTensorInfo(q.shape, 'float32', r.ctx), b.makeTensorInfo([B, H, L, L], 'float32', r.probs)];
  },
  [ATTENTION_GRAD]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const r = attentionGradRef(f32(b, inputs.dctx as tf.TensorInfo), f32(b, inputs.probs as tf.TensorInfo), f32(b, q), f32(b, inputs.k as tf.TensorInfo), f32(b, inputs.v as tf.TensorInfo), B, L, D, H);
    return [b.makeTensorInfo(q.shape, 'float32', r.dq), b.makeTensorInfo(q.shape, 'float32', r.dk), b.makeTensorInfo(q.shape, 'float32', r.dv)];
  },
  [DROPOUT]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const { seed, rate } = attrs as { seed: number; rate: number };
    return b.makeTensorInfo(x.shape, 'float32', dropoutRef(f32(b, x), seed, rate));
  },
  [ADAM]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const p = inputs.p as tf.TensorInfo;
    const r = adamRef(f32(b, p), f32(b, inputs.m as tf.TensorInfo), f32(b, inputs.v as tf.TensorInfo), f32(b, inputs.g as tf.TensorInfo), attrs as unknown as AdamAttrs);
    return [b.makeTensorInfo(p.shape, 'float32', r.p2), b.makeTensorInfo(p.shape, 'float32', r.m2), b.makeTensorInfo(p.shape, 'float32', r.v2)];
  },
};

/* ---------------------------------------------------------------------------------------------------------- */
/* C kernels (wasm backend)                                                                                    */
/* ---------------------------------------------------------------------------------------------------------- */

/** A tensor as rows of its last axis: the row width d and the number of rows (layer norm's view). */
function rowsOf(shape: number[]): { rows: number; d: number } {
  const d = shape[shape.length - 1];
  return { rows: d === 0 ? 0 : prod(shape) / d, d };
}

const wasmKernels: Record<string, tf.KernelFunc> = {
  [LAYER_NORM]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const { rows, d } = rowsOf(x.shape);
    const y = nk.out(x.shape);
    const mean = nk.out([rows]);
    const rstd = nk.out([rows]);
    if (rows > 0) {
      nk.k.bst_layernorm(y.ptr, mean.ptr, rstd.ptr, nk.ptr(x), nk.ptr(inputs.gamma as tf.TensorInfo), nk.ptr(inputs.beta as tf.TensorInfo),
        rows, d, (attrs as { epsilon: number }).epsilon);
    }
    return [y.info, mean.info, rstd.info];
  },
  [LAYER_NORM_GRAD]: ({ inputs, backend }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const { rows, d } = rowsOf(x.shape);
    const dx = nk.out(x.shape);
    const dg = nk.out([d]);
    const db = nk.out([d]);
    nk.k.bst_layernorm_grad(dx.ptr, dg.ptr, db.ptr, nk.ptr(inputs.dy as tf.TensorInfo), nk.ptr(x), nk.ptr(inputs.gamma as tf.TensorInfo),
      nk.ptr(inputs.mean as tf.TensorInfo), nk.ptr(inputs.rstd as tf.TensorInfo), rows, d);
    return [dx.info, dg.info, db.info];
  },
  [LEAKY_RELU_GRAD]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const dx = nk.out(x.shape);
    nk.k.bst_leaky_grad(dx.ptr, nk.ptr(inputs.dy as tf.TensorInfo), nk.ptr(x), prod(x.shape), (attrs as { alpha: number }).alpha);
    return dx.info;
  },
  [ATTENTION]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const ctx = nk.out(q.shape);
    const probs = nk.out([B, H, L, L]);
    nk.k.bst_attention(ctx.ptr, probs.ptr, nk.ptr(q), nk.ptr(inputs.k as tf.TensorInfo), nk.ptr(inputs.v as tf.TensorInfo),
      nk.ptr(inputs.mask as tf.TensorInfo), B, L, D, H, 1 / Math.sqrt(D / H), nk.scratch(nk.k.bst_attention_scratch(L, D / H)));
    return [ctx.info, probs.info];
  },
  [ATTENTION_GRAD]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const dq = nk.out(q.shape);
    const dk = nk.out(q.shape);
    const dv = nk.out(q.shape);
    const scratch = nk.scratch(nk.k.bst_attention_grad_scratch(L, D / H));
    nk.k.bst_attention_grad(dq.ptr, dk.ptr, dv.ptr, scratch, nk.ptr(inputs.dctx as tf.TensorInfo), nk.ptr(inputs.probs as tf.TensorInfo),
      nk.ptr(q), nk.ptr(inputs.k as tf.TensorInfo), nk.ptr(inputs.v as tf.TensorInfo), B, L, D, H, 1 / Math.sqrt(D / H));
    return [dq.info, dk.info, dv.info];
  },
  [DROPOUT]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const { seed, rate } = attrs as { seed: number; rate: number };
    const y = nk.out(x.shape);
    nk.k.bst_dropout(y.ptr, nk.ptr(x), prod(x.shape), seed | 0, rate, 1 / (1 - rate));
    return y.info;
  },
  [ADAM]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const p = inputs.p as tf.TensorInfo;
    const a = attrs as unknown as AdamAttrs;
    const p2 = nk.out(p.shape);
    const m2 = nk.out(p.shape);
    const v2 = nk.out(p.shape);
    nk.k.bst_adam(p2.ptr, m2.ptr, v2.ptr, nk.ptr(p), nk.ptr(inputs.m as tf.TensorInfo), nk.ptr(inputs.v as tf.TensorInfo),
      nk.ptr(inputs.g as tf.TensorInfo), 0, 1, 0, prod(p.shape), a.lr, a.beta1, a.beta2, a.epsilon, a.c1, a.c2);
    return [p2.info, m2.info, v2.info];
  },
};

/** Register the fused kernels for `backendName` ('wasm' needs the native module; 'cpu' uses the references). */
export function registerFusedKernels(backendName: 'wasm' | 'cpu'): string[] {
  const table = backendName === 'wasm' ? wasmKernels : cpuKernels;
  const names: string[] = [];
  for (const kernelName of FUSED_KERNELS) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: table[kernelName] });
    names.push(kernelName);
  }
  return names;
}

/** Remove the fused kernels of `backendName` (ops then fall back to tfjs's own). */
export function unregisterFusedKernels(backendName: string): void {
  for (const kernelName of FUSED_KERNELS) if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
}

/** Whether the active backend has fused kernel `name`. */
export function hasFused(name: string): boolean {
  return !!tf.getKernel(name, tf.getBackend());
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Ops                                                                                                         */
/* ---------------------------------------------------------------------------------------------------------- */

/** What a custom op's forward returns: its value and the gradient of each input. */
interface CustomResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * tf.customGrad typed as the op it makes: `forward` takes the op's tensors, then tfjs's save function (tfjs's own
 * typing folds the save function into the inputs, hence the casts kept here).
 */
function customOp<F extends (...xs: any[]) => tf.Tensor>(forward: (...args: any[]) => CustomResult): F {
  return tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as F;
}

const layerNormByEps = new Map<number, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** Fused layer norm over the last axis with its fused gradient (active backend must have LAYER_NORM). */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  let f = layerNormByEps.get(epsilon);
  if (!f) {
    f = customOp<(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x: xx, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
      save([xx, g, mean, rstd]);
      return {
        value: y, // [..., D]
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sg, sm, sr] = saved;
          return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x: sx, gamma: sg, mean: sm, rstd: sr }, {}) as tf.Tensor[];
        },
      };
    });
    layerNormByEps.set(epsilon, f);
  }
  return f(x, gamma, beta);
}

/**
 * Seeded dropout in one kernel (active backend must have DROPOUT): the mask is a hash of (seed, element index),
 * so the gradient re-applies the same mask to dy without storing it.
 */
export function fusedDropout(x: tf.Tensor, rate: number, seed: string): tf.Tensor {
  const attrs = { rate, seed: seedHash(seed) };
  const f = customOp<(t: tf.Tensor) => tf.Tensor>((xx: tf.Tensor) => ({
    value: tf.engine().runKernel(DROPOUT, { x: xx }, attrs) as tf.Tensor, // [...x]
    gradFunc: (dy: tf.Tensor) => tf.engine().runKernel(DROPOUT, { x: dy }, attrs) as tf.Tensor,
  }));
  return f(x);
}

/**
 * leakyRelu(x @ w + b) for x [N, Din], w [Din, Dout], b [Dout] as one fused matmul (bias and activation in its
 * epilogue) with a 4-kernel gradient (tfjs's fused matMul has no leaky-relu gradient). Needs LEAKY_RELU_GRAD.
 */
export function denseLeakyRelu(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, alpha: number): tf.Tensor2D {
  const f = customOp<(a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor1D) => tf.Tensor2D>((xx: tf.Tensor2D, ww: tf.Tensor2D, bb: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const y = tf.engine().runKernel('_FusedMatMul', { a: xx, b: ww, bias: bb }, {
      transposeA: false, transposeB: false, activation: 'leakyrelu', leakyreluAlpha: alpha,
    }) as tf.Tensor2D; // [N, Dout]
    save([xx, ww, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved;
        const dz = tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x: sy }, { alpha }) as tf.Tensor2D; // [N, Dout]
        return [tf.matMul(dz, sw as tf.Tensor2D, false, true), tf.matMul(sx as tf.Tensor2D, dz, true, false), tf.sum(dz, 0)];
      },
    };
  });
  return f(x, w, b);
}

/**
 * Multi-head attention of projected q, k, v [B, L, D] with key mask [B, L] (1 real, 0 padding) in one kernel and
 * a one-kernel gradient (active backend must have ATTENTION). Returns the merged heads [B, L, D].
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor, numHeads: number): tf.Tensor {
  const attrs = { numHeads };
  const f = customOp<(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.Tensor>((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, mm: tf.Tensor, save: tf.GradSaveFunc) => {
    const [ctx, probs] = tf.engine().runKernel(ATTENTION, { q: qq, k: kk, v: vv, mask: mm }, attrs) as tf.Tensor[]; // [B, L, D], [B, H, L, L]
    save([qq, kk, vv, mm, probs]);
    return {
      value: ctx,
      gradFunc: (dctx: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sm, sp] = saved;
        const [dq, dk, dv] = tf.engine().runKernel(ATTENTION_GRAD, { dctx, probs: sp, q: sq, k: sk, v: sv }, attrs) as tf.Tensor[];
        return [dq, dk, dv, tf.zerosLike(sm)];
      },
    };
  });
  return f(q, k, v, tf.cast(mask, 'float32'));
}

let leakyGradInstalled = false;

/**
 * Route the LeakyRelu gradient through BstLeakyReluGrad when the active backend has it (same values as tfjs's
 * where(x > 0, dy, alpha * dy), one kernel instead of three). Global and idempotent; other backends keep
 * tfjs's formulation.
 */
export function installLeakyReluGrad(): void {
  if (leakyGradInstalled) return;
  leakyGradInstalled = true;
  const stock = tf.getGradient('LeakyRelu');
  if (!stock) return;
  tf.registerGradient({
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      if (!hasFused(LEAKY_RELU_GRAD)) return stock.gradFunc(dy, saved, attrs);
      const [x] = saved;
      const alpha = (attrs as { alpha: number }).alpha;
      return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: dy as tf.Tensor, x }, { alpha }) as tf.Tensor };
    },
  });
}

/** A gradient source of FusedAdamOptimizer.applyPacked: a packed vector, or one tensor per variable. */
export type GradSource = Float32Array | (tf.Tensor | undefined)[];

/** The native kernels when the active backend runs BstAdam in C (wasm with the native module), else undefined. */
function nativeAdam(): NativeKernels | undefined {
  return tf.getBackend() === 'wasm' && hasFused(ADAM) ? nativeFor(tf.backend()) : undefined;
}

/** Whether a tensor's data has no other owner on the wasm backend (so a kernel may overwrite it in place). */
function soleOwner(nk: NativeKernels, t: tf.Tensor): boolean {
  const d = (nk.backend.dataIdMap.get(t.dataId) as unknown as { refCount?: number } | undefined);
  return !!d && d.refCount === 1;
}

/** Adam's private state, as tfjs 4.22's AdamOptimizer keeps it. */
interface AdamState {
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/**
 * tfjs's Adam with one fused kernel per variable when the active backend has BstAdam (same state, names and
 * serialisation as tf.train.adam; values equal up to float32 rounding). On wasm with the native module, the
 * update runs in place on the variable's memory, without the engine, when nothing else shares that memory.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** its own serialization name, so a rebuilt copy (data-parallel workers) is this class, not tf's Adam */
  static get className(): string {
    return 'BstFusedAdam';
  }

  applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!hasFused(ADAM)) {
      super.applyGradients(variableGradients);
      return;
    }
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const grads = names.map((name, i) => (Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name]));
    this.update(names, (i, nk) => {
      const g = grads[i];
      if (!g) return undefined;
      return nk ? { ptr: nk.ptr(g as unknown as tf.TensorInfo) } : { tensor: g };
    });
  }

  /**
   * One Adam step whose gradient for variable `names[i]` is `weights[0] * g0_i + weights[1] * g1_i`, from 1 or 2
   * sources (e.g. the ranks of a data-parallel step). A source is a packed vector (variable i at `offsets[i]`)
   * or one tensor per variable (a rank's own gradients, used where they are, without a copy). `has[i]` false:
   * no gradient for variable i. The sum happens inside the C kernel on wasm, so every thread that calls this
   * with the same values computes bit-identical updates.
   */
  applyPacked(names: string[], offsets: number[], has: boolean[], sources: GradSource[], weights: number[]): void {
    if (sources.length < 1 || sources.length > 2 || sources.length !== weights.length) {
      throw new Error(`FusedAdamOptimizer.applyPacked: 1 or 2 gradient sources with one weight each, got ${sources.length} and ${weights.length}`);
    }
    for (const src of sources) {
      if (!(src instanceof Float32Array) && names.some((_, i) => has[i] && !src[i])) {
        throw new Error('FusedAdamOptimizer.applyPacked: a per-variable source lacks a gradient the others have');
      }
    }
    /** variable i's values in source k (plain arrays: the JavaScript path) */
    const valuesOf = (k: number, i: number, n: number): Float32Array => {
      const src = sources[k];
      return src instanceof Float32Array ? src.subarray(offsets[i], offsets[i] + n) : ((src[i] as tf.Tensor).dataSync() as Float32Array);
    };
    const nk = nativeAdam();
    if (!nk) {
      // no C kernel: the sum in float32 (the same on every thread), then the kernel path
      tf.tidy(() => {
        const named: tf.NamedTensorMap = {};
        names.forEach((name, i) => {
          if (!has[i]) return;
          const v = tf.engine().registeredVariables[name];
          const g = new Float32Array(v.size);
          for (let k = 0; k < sources.length; k++) {
            const src = valuesOf(k, i, v.size);
            const w = Math.fround(weights[k]);
            for (let j = 0; j < g.length; j++) g[j] = Math.fround(g[j] + Math.fround(w * src[j]));
          }
          named[name] = tf.tensor(g, v.shape, 'float32');
        });
        this.applyGradients(named as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
      });
      return;
    }
    // packed sources are copied into the heap (scratch); per-variable tensors are already there
    const packed = sources.filter((src): src is Float32Array => src instanceof Float32Array);
    const total = packed.length ? packed[0].length : 0;
    const base = packed.length ? nk.scratch(total * packed.length) : 0;
    packed.forEach((src, k) => new Float32Array(nk.backend.wasm.HEAPF32.buffer, base + k * total * 4, total).set(src));
    const ptrOf = (k: number, i: number): number => {
      const src = sources[k];
      return src instanceof Float32Array ? base + (packed.indexOf(src) * total + offsets[i]) * 4 : nk.ptr(src[i] as unknown as tf.TensorInfo);
    };
    this.update(names, (i) => (has[i] ? {
      ptr: ptrOf(0, i),
      ptr2: sources.length === 2 ? ptrOf(1, i) : 0,
      wa: weights[0],
      wb: sources.length === 2 ? weights[1] : 0,
    } : undefined));
  }

  /** The shared step: per variable, its gradient (a tensor, or heap pointers on the native path), then Adam. */
  private update(names: string[], gradOf: (i: number, nk?: NativeKernels) => { tensor?: tf.Tensor; ptr?: number; ptr2?: number; wa?: number; wb?: number } | undefined): void {
    const self = this as unknown as AdamState;
    const c1 = 1 - self.accBeta1.dataSync()[0];
    const c2 = 1 - self.accBeta2.dataSync()[0];
    const attrs = { lr: self.learningRate, beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, c1, c2 };
    const nk = nativeAdam();
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const inPlace = nk && soleOwner(nk, value) && soleOwner(nk, m) && soleOwner(nk, v) ? nk : undefined;
        const g = gradOf(i, inPlace);
        if (!g) return;
        if (inPlace && g.ptr !== undefined) {
          // in place: nothing else holds these buffers, so no tensor can observe the change
          const [pp, mp, vp] = [value, m, v].map((t) => inPlace.ptr(t as unknown as tf.TensorInfo));
          inPlace.k.bst_adam(pp, mp, vp, pp, mp, vp, g.ptr, g.ptr2 ?? 0, g.wa ?? 1, g.wb ?? 0, value.size,
            attrs.lr, attrs.beta1, attrs.beta2, attrs.epsilon, attrs.c1, attrs.c2);
          return;
        }
        const gt = g.tensor ?? this.packedToTensor(value, g);
        const [p2, m2, v2] = tf.engine().runKernel(ADAM, { p: value, m, v, g: gt }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(p2);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    (this as unknown as { incrementIterations(): void }).incrementIterations();
  }

  /** A packed gradient on the heap (rare: the variable's memory is shared) as a tensor: wa * g + wb * g2. */
  private packedToTensor(value: tf.Variable, g: { ptr?: number; ptr2?: number; wa?: number; wb?: number }): tf.Tensor {
    const nk = nativeFor(tf.backend());
    const heap = nk.backend.wasm.HEAPF32;
    const n = value.size;
    const a = heap.slice((g.ptr as number) / 4, (g.ptr as number) / 4 + n);
    if (g.ptr2) {
      const b = heap.subarray(g.ptr2 / 4, g.ptr2 / 4 + n);
      const wa = Math.fround(g.wa ?? 1), wb = Math.fround(g.wb ?? 0);
      for (let j = 0; j < n; j++) a[j] = Math.fround(Math.fround(a[j] * wa) + Math.fround(b[j] * wb));
    }
    return tf.tensor(a, value.shape, 'float32');
  }
}

tf.serialization.registerClass(FusedAdamOptimizer);
