/**
 * Ops over the fused kernels: layer norm, dropout, dense + LeakyReLU, attention (each with its gradient), the
 * LeakyRelu gradient override and FusedAdamOptimizer. Each uses the fused kernel when the active backend has
 * one and tfjs's own ops otherwise. The kernels are installed by lib/kernels/install.ts.
 */
import * as tf from '@tensorflow/tfjs';
import {
  ADAM,
  ATTENTION,
  ATTENTION_GRAD,
  DROPOUT,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  LEAKY_RELU_GRAD,
  seedHash,
} from './fused-reference';
import { NativeKernels, nativeFor } from './native-module';

/** Whether the active backend has fused kernel `name`. */
export function hasFused(name: string): boolean {
  return !!tf.getKernel(name, tf.getBackend());
}

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
    f = customOp<(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>(
      (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
        const [y, mean, rstd] = tf
          .engine()
          .runKernel(LAYER_NORM, { x: xx, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
        save([xx, g, mean, rstd]);
        return {
          value: y, // [..., D]
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sx, sg, sm, sr] = saved;
            return tf
              .engine()
              .runKernel(LAYER_NORM_GRAD, { dy, x: sx, gamma: sg, mean: sm, rstd: sr }, {}) as tf.Tensor[];
          },
        };
      },
    );
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
  const f = customOp<(a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor1D) => tf.Tensor2D>(
    (xx: tf.Tensor2D, ww: tf.Tensor2D, bb: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const y = tf.engine().runKernel(
        '_FusedMatMul',
        { a: xx, b: ww, bias: bb },
        {
          transposeA: false,
          transposeB: false,
          activation: 'leakyrelu',
          leakyreluAlpha: alpha,
        },
      ) as tf.Tensor2D; // [N, Dout]
      save([xx, ww, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw, sy] = saved;
          const dz = tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x: sy }, { alpha }) as tf.Tensor2D; // [N, Dout]
          return [
            tf.matMul(dz, sw as tf.Tensor2D, false, true),
            tf.matMul(sx as tf.Tensor2D, dz, true, false),
            tf.sum(dz, 0),
          ];
        },
      };
    },
  );
  return f(x, w, b);
}

/**
 * Multi-head attention of projected q, k, v [B, L, D] with key mask [B, L] (1 real, 0 padding) in one kernel and
 * a one-kernel gradient (active backend must have ATTENTION). Returns the merged heads [B, L, D].
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor, numHeads: number): tf.Tensor {
  const attrs = { numHeads };
  const f = customOp<(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.Tensor>(
    (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, mm: tf.Tensor, save: tf.GradSaveFunc) => {
      const [ctx, probs] = tf.engine().runKernel(ATTENTION, { q: qq, k: kk, v: vv, mask: mm }, attrs) as tf.Tensor[]; // [B, L, D], [B, H, L, L]
      save([qq, kk, vv, mm, probs]);
      return {
        value: ctx,
        gradFunc: (dctx: tf.Tensor, saved: tf.Tensor[]) => {
          const [sq, sk, sv, sm, sp] = saved;
          const [dq, dk, dv] = tf
            .engine()
            .runKernel(ATTENTION_GRAD, { dctx, probs: sp, q: sq, k: sk, v: sv }, attrs) as tf.Tensor[];
          return [dq, dk, dv, tf.zerosLike(sm)];
        },
      };
    },
  );
  return f(q, k, v, tf.cast(mask, 'float32'));
}

/**
 * The LeakyRelu gradient routed through BstLeakyReluGrad when the active backend has it (same values as tfjs's
 * where(x > 0, dy, alpha * dy), one kernel instead of three); other backends keep `stock`, tfjs's formulation.
 * lib/kernels/install.ts registers it in place of the stock gradient and puts the stock one back.
 */
export function fusedLeakyReluGrad(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      if (!hasFused(LEAKY_RELU_GRAD)) return stock.gradFunc(dy, saved, attrs);
      const [x] = saved;
      const alpha = (attrs as { alpha: number }).alpha;
      return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy: dy as tf.Tensor, x }, { alpha }) as tf.Tensor };
    },
  };
}

/** A gradient source of FusedAdamOptimizer.applyPacked: a packed vector, or one tensor per variable. */
export type GradSource = Float32Array | (tf.Tensor | undefined)[];

/** The native kernels when the active backend runs BstAdam in C (wasm with the native module), else undefined. */
function nativeAdam(): NativeKernels | undefined {
  return tf.getBackend() === 'wasm' && hasFused(ADAM) ? nativeFor(tf.backend()) : undefined;
}

/** Whether a tensor's data has no other owner on the wasm backend (so a kernel may overwrite it in place). */
function soleOwner(nk: NativeKernels, t: tf.Tensor): boolean {
  const d = nk.backend.dataIdMap.get(t.dataId) as unknown as { refCount?: number } | undefined;
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
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const grads = names.map((name, i) =>
      Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name],
    );
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
      throw new Error(
        `FusedAdamOptimizer.applyPacked: 1 or 2 gradient sources with one weight each, got ${sources.length} and ${weights.length}`,
      );
    }
    for (const src of sources) {
      if (!(src instanceof Float32Array) && names.some((_, i) => has[i] && !src[i])) {
        throw new Error('FusedAdamOptimizer.applyPacked: a per-variable source lacks a gradient the others have');
      }
    }
    /** variable i's values in source k (plain arrays: the JavaScript path) */
    const valuesOf = (k: number, i: number, n: number): Float32Array => {
      const src = sources[k];
      return src instanceof Float32Array
        ? src.subarray(offsets[i], offsets[i] + n)
        : ((src[i] as tf.Tensor).dataSync() as Float32Array);
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
      return src instanceof Float32Array
        ? base + (packed.indexOf(src) * total + offsets[i]) * 4
        : nk.ptr(src[i] as unknown as tf.TensorInfo);
    };
    this.update(names, (i) =>
      has[i]
        ? {
            ptr: ptrOf(0, i),
            ptr2: sources.length === 2 ? ptrOf(1, i) : 0,
            wa: weights[0],
            wb: sources.length === 2 ? weights[1] : 0,
          }
        : undefined,
    );
  }

  /** The shared step: per variable, its gradient (a tensor, or heap pointers on the native path), then Adam. */
  private update(
    names: string[],
    gradOf: (
      i: number,
      nk?: NativeKernels,
    ) => { tensor?: tf.Tensor; ptr?: number; ptr2?: number; wa?: number; wb?: number } | undefined,
  ): void {
    const self = this as unknown as AdamState;
    const c1 = 1 - self.accBeta1.dataSync()[0];
    const c2 = 1 - self.accBeta2.dataSync()[0];
    const attrs = { lr: self.learningRate, beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, c1, c2 };
    const nk = nativeAdam();
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (self.accumulatedFirstMoment[i] == null) {
          self.accumulatedFirstMoment[i] = {
            originalName: `${name}/m`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        if (self.accumulatedSecondMoment[i] == null) {
          self.accumulatedSecondMoment[i] = {
            originalName: `${name}/v`,
            variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
          };
        }
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const inPlace = nk && soleOwner(nk, value) && soleOwner(nk, m) && soleOwner(nk, v) ? nk : undefined;
        const g = gradOf(i, inPlace);
        if (!g) return;
        if (inPlace && g.ptr !== undefined) {
          // in place: nothing else holds these buffers, so no tensor can observe the change
          const [pp, mp, vp] = [value, m, v].map((t) => inPlace.ptr(t as unknown as tf.TensorInfo));
          inPlace.k.bst_adam(
            pp,
            mp,
            vp,
            pp,
            mp,
            vp,
            g.ptr,
            g.ptr2 ?? 0,
            g.wa ?? 1,
            g.wb ?? 0,
            value.size,
            attrs.lr,
            attrs.beta1,
            attrs.beta2,
            attrs.epsilon,
            attrs.c1,
            attrs.c2,
          );
          return;
        }
        const gt = g.tensor ?? this.packedToTensor(value, g);
        const [p2, m2, v2] = tf
          .engine()
          .runKernel(ADAM, { p: value, m, v, g: gt }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
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
      const wa = Math.fround(g.wa ?? 1),
        wb = Math.fround(g.wb ?? 0);
      for (let j = 0; j < n; j++) a[j] = Math.fround(Math.fround(a[j] * wa) + Math.fround(b[j] * wb));
    }
    return tf.tensor(a, value.shape, 'float32');
  }
}

tf.serialization.registerClass(FusedAdamOptimizer);
