/**
 * The fused training kernels' names and their plain JavaScript references (which the cpu backend runs and the
 * tests compare the C against). See lib/kernels/fused.ts for what each kernel fuses.
 */
export const LAYER_NORM = 'BstLayerNorm';
export const LAYER_NORM_GRAD = 'BstLayerNormGrad';
export const LEAKY_RELU_GRAD = 'BstLeakyReluGrad';
export const ADAM = 'BstAdam';
export const DROPOUT = 'BstDropout';
export const ATTENTION = 'BstAttention';
export const ATTENTION_GRAD = 'BstAttentionGrad';
/** Every fused kernel name. */
export const FUSED_KERNELS = [LAYER_NORM, LAYER_NORM_GRAD, LEAKY_RELU_GRAD, ADAM, DROPOUT, ATTENTION, ATTENTION_GRAD];

/** Number of elements of a shape. */
export const prod = (s: number[]) => s.reduce((a, d) => a * d, 1);

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
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  d: number,
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

/** The attributes of a BstAdam step (c1, c2: the bias corrections). */
export type AdamAttrs = { lr: number; beta1: number; beta2: number; epsilon: number; c1: number; c2: number };

/** Reference Adam step (tfjs's formulation) on plain arrays. */
export function adamRef(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, a: AdamAttrs) {
  const p2 = new Float32Array(p.length);
  const m2 = new Float32Array(p.length);
  const v2 = new Float32Array(p.length);
  for (let j = 0; j < p.length; j++) {
    m2[j] = m[j] * a.beta1 + g[j] * (1 - a.beta1);
    v2[j] = v[j] * a.beta2 + g[j] * g[j] * (1 - a.beta2);
    p2[j] = p[j] - (m2[j] / a.c1 / (Math.sqrt(v2[j] / a.c2) + a.epsilon)) * a.lr;
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
export function attentionRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Float32Array,
  B: number,
  L: number,
  D: number,
  H: number,
) {
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
        for (let j = 0; j < L; j++) z += p[j] = Math.exp(p[j] - mx);
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
export function attentionGradRef(
  dctx: Float32Array,
  probs: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  B: number,
  L: number,
  D: number,
  H: number,
) {
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
