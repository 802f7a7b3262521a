/** The fused kernels on the cpu backend: the plain references of fused-reference.ts over tfjs tensors. */
import * as tf from '@tensorflow/tfjs';
import {
  ADAM,
  AdamAttrs,
  adamRef,
  ATTENTION,
  ATTENTION_GRAD,
  attentionGradRef,
  attentionRef,
  DROPOUT,
  dropoutRef,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  layerNormGradRef,
  layerNormRef,
  LEAKY_RELU_GRAD,
} from './fused-reference';

interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

const f32 = (b: CpuBackendLike, t: tf.TensorInfo) => b.readSync(t.dataId) as Float32Array;

/** Each fused kernel's cpu implementation, by kernel name. */
export const CPU_FUSED_KERNELS: Record<string, tf.KernelFunc> = {
  [LAYER_NORM]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const d = x.shape[x.shape.length - 1];
    const r = layerNormRef(
      f32(b, x),
      f32(b, inputs.gamma as tf.TensorInfo),
      f32(b, inputs.beta as tf.TensorInfo),
      d,
      (attrs as { epsilon: number }).epsilon,
    );
    return [
      b.makeTensorInfo(x.shape, 'float32', r.y),
      b.makeTensorInfo([r.mean.length], 'float32', r.mean),
      b.makeTensorInfo([r.rstd.length], 'float32', r.rstd),
    ];
  },
  [LAYER_NORM_GRAD]: ({ inputs, backend }) => {
    const b = backend as unknown as CpuBackendLike;
    const x = inputs.x as tf.TensorInfo;
    const d = x.shape[x.shape.length - 1];
    const r = layerNormGradRef(
      f32(b, inputs.dy as tf.TensorInfo),
      f32(b, x),
      f32(b, inputs.gamma as tf.TensorInfo),
      f32(b, inputs.mean as tf.TensorInfo),
      f32(b, inputs.rstd as tf.TensorInfo),
      d,
    );
    return [
      b.makeTensorInfo(x.shape, 'float32', r.dx),
      b.makeTensorInfo([d], 'float32', r.dgamma),
      b.makeTensorInfo([d], 'float32', r.dbeta),
    ];
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
    const r = attentionRef(
      f32(b, q),
      f32(b, inputs.k as tf.TensorInfo),
      f32(b, inputs.v as tf.TensorInfo),
      f32(b, inputs.mask as tf.TensorInfo),
      B,
      L,
      D,
      H,
    );
    return [b.makeTensorInfo(q.shape, 'float32', r.ctx), b.makeTensorInfo([B, H, L, L], 'float32', r.probs)];
  },
  [ATTENTION_GRAD]: ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuBackendLike;
    const q = inputs.q as tf.TensorInfo;
    const [B, L, D] = q.shape;
    const H = (attrs as { numHeads: number }).numHeads;
    const r = attentionGradRef(
      f32(b, inputs.dctx as tf.TensorInfo),
      f32(b, inputs.probs as tf.TensorInfo),
      f32(b, q),
      f32(b, inputs.k as tf.TensorInfo),
      f32(b, inputs.v as tf.TensorInfo),
      B,
      L,
      D,
      H,
    );
    return [
      b.makeTensorInfo(q.shape, 'float32', r.dq),
      b.makeTensorInfo(q.shape, 'float32', r.dk),
      b.makeTensorInfo(q.shape, 'float32', r.dv),
    ];
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
    const r = adamRef(
      f32(b, p),
      f32(b, inputs.m as tf.TensorInfo),
      f32(b, inputs.v as tf.TensorInfo),
      f32(b, inputs.g as tf.TensorInfo),
      attrs as unknown as AdamAttrs,
    );
    return [
      b.makeTensorInfo(p.shape, 'float32', r.p2),
      b.makeTensorInfo(p.shape, 'float32', r.m2),
      b.makeTensorInfo(p.shape, 'float32', r.v2),
    ];
  },
};
