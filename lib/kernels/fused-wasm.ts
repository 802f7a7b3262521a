/** The fused kernels on the wasm backend: bst-lab's C (lib/kernels/native) through the native module. */
import * as tf from '@tensorflow/tfjs';
import {
  ADAM,
  AdamAttrs,
  ATTENTION,
  ATTENTION_GRAD,
  DROPOUT,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  LEAKY_RELU_GRAD,
  prod,
} from './fused-reference';
import { nativeFor } from './native-module';

/** A tensor as rows of its last axis: the row width d and the number of rows (layer norm's view). */
function rowsOf(shape: number[]): { rows: number; d: number } {
  const d = shape[shape.length - 1];
  return { rows: d === 0 ? 0 : prod(shape) / d, d };
}

/** Each fused kernel's wasm implementation, by kernel name. */
export const WASM_FUSED_KERNELS: Record<string, tf.KernelFunc> = {
  [LAYER_NORM]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const { rows, d } = rowsOf(x.shape);
    const y = nk.out(x.shape);
    const mean = nk.out([rows]);
    const rstd = nk.out([rows]);
    if (rows > 0) {
      nk.k.bst_layernorm(
        y.ptr,
        mean.ptr,
        rstd.ptr,
        nk.ptr(x),
        nk.ptr(inputs.gamma as tf.TensorInfo),
        nk.ptr(inputs.beta as tf.TensorInfo),
        rows,
        d,
        (attrs as { epsilon: number }).epsilon,
      );
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
    nk.k.bst_layernorm_grad(
      dx.ptr,
      dg.ptr,
      db.ptr,
      nk.ptr(inputs.dy as tf.TensorInfo),
      nk.ptr(x),
      nk.ptr(inputs.gamma as tf.TensorInfo),
      nk.ptr(inputs.mean as tf.TensorInfo),
      nk.ptr(inputs.rstd as tf.TensorInfo),
      rows,
      d,
    );
    return [dx.info, dg.info, db.info];
  },
  [LEAKY_RELU_GRAD]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const x = inputs.x as tf.TensorInfo;
    const dx = nk.out(x.shape);
    nk.k.bst_leaky_grad(
      dx.ptr,
      nk.ptr(inputs.dy as tf.TensorInfo),
      nk.ptr(x),
      prod(x.shape),
      (attrs as { alpha: number }).alpha,
    );
    return dx.info;
  },
  [ATTENTION]: ({ inputs, backend, attrs }) => {
    const nk = nativeFor(backend);
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const ctx = nk.out(q.shape);
    const probs = nk.out([B, H, L, L]);
    nk.k.bst_attention(
      ctx.ptr,
      probs.ptr,
      nk.ptr(q),
      nk.ptr(inputs.k as tf.TensorInfo),
      nk.ptr(inputs.v as tf.TensorInfo),
      nk.ptr(inputs.mask as tf.TensorInfo),
      B,
      L,
      D,
      H,
      1 / Math.sqrt(D / H),
      nk.scratch(nk.k.bst_attention_scratch(L, D / H)),
    );
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
    nk.k.bst_attention_grad(
      dq.ptr,
      dk.ptr,
      dv.ptr,
      scratch,
      nk.ptr(inputs.dctx as tf.TensorInfo),
      nk.ptr(inputs.probs as tf.TensorInfo),
      nk.ptr(q),
      nk.ptr(inputs.k as tf.TensorInfo),
      nk.ptr(inputs.v as tf.TensorInfo),
      B,
      L,
      D,
      H,
      1 / Math.sqrt(D / H),
    );
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
    nk.k.bst_adam(
      p2.ptr,
      m2.ptr,
      v2.ptr,
      nk.ptr(p),
      nk.ptr(inputs.m as tf.TensorInfo),
      nk.ptr(inputs.v as tf.TensorInfo),
      nk.ptr(inputs.g as tf.TensorInfo),
      0,
      1,
      0,
      prod(p.shape),
      a.lr,
      a.beta1,
      a.beta2,
      a.epsilon,
      a.c1,
      a.c2,
    );
    return [p2.info, m2.info, v2.info];
  },
};
