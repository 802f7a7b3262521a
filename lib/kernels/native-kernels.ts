/**
 * tfjs wasm kernels backed by bst-lab's own C (lib/kernels/native): each takes the cases it was written for and
 * hands every other case (dtypes, broadcasting patterns, activations) to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeFor } from './native-module';
import { checkGatherIndices } from './gather';
import { segmentSumOutputShape } from './unsorted-segment-sum';

const F = 4; // bytes per float32 / int32
const prod = (s: number[]) => s.reduce((a, d) => a * d, 1);
const ACT: Record<string, number> = { linear: 0, relu: 1, leakyrelu: 2 };

/**
 * BatchMatMul / _FusedMatMul: C = op(A) op(B) (+ bias) (activation) for float32 with equal or broadcast (size 1)
 * batch dims, bias of size N, activation linear, relu or leakyrelu. A batched A times an unbatched B (dense
 * layers on [B, L, D]) runs as one 2D product.
 */
export function nativeMatMul(fallback: tf.KernelFunc, fused: boolean): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
    const at = attrs as { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
    const act = fused ? ACT[at.activation ?? 'linear'] : 0;
    if (
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      act === undefined ||
      (fused && inputs.preluActivationWeights)
    ) {
      return fallback(args);
    }
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (ra < 2 || rb < 2) return fallback(args);
    const M = at.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = at.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const Kb = at.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const N = at.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (K !== Kb) return fallback(args); // the stock kernel raises tfjs's own error
    const batchShapeA = a.shape.slice(0, -2);
    const batchShapeB = b.shape.slice(0, -2);
    const batchA = prod(batchShapeA);
    const batchB = prod(batchShapeB);
    let outBatchShape: number[];
    try {
      outBatchShape = tf.backend_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
    } catch {
      return fallback(args);
    }
    const batch = prod(outBatchShape);
    if (!(batchA === batch || batchA === 1) || !(batchB === batch || batchB === 1)) return fallback(args);
    if (bias && (bias.dtype !== 'float32' || prod(bias.shape) !== N || bias.shape[bias.shape.length - 1] !== N)) {
      return fallback(args);
    }
    const nk = nativeFor(backend);
    const out = nk.out([...outBatchShape, M, N]);
    if (M * N === 0) return out.info;
    const pa = nk.ptr(a);
    const pb = nk.ptr(b);
    const pbias = bias ? nk.ptr(bias) : 0;
    const alpha = at.leakyreluAlpha ?? 0.2;
    const scratch = nk.scratch(nk.k.bst_matmul_scratch(K, N)); // B^T, then packed panels
    if (batchB === 1 && !at.transposeA && batch > 1 && batchA === batch) {
      // [batch, M, K] x [K, N]: one [batch * M, K] x [K, N] product
      nk.k.bst_matmul(out.ptr, pa, pb, batch * M, K, N, 0, at.transposeB ? 1 : 0, scratch, pbias, act, alpha);
      return out.info;
    }
    for (let i = 0; i < batch; i++) {
      nk.k.bst_matmul(
        out.ptr + i * M * N * F,
        pa + (batchA > 1 ? i * M * K * F : 0),
        pb + (batchB > 1 ? i * K * N * F : 0),
        M,
        K,
        N,
        at.transposeA ? 1 : 0,
        at.transposeB ? 1 : 0,
        scratch,
        pbias,
        act,
        alpha,
      );
    }
    return out.info;
  };
}

/** Sum of float32 x over its leading axes, its trailing axes, or all axes; other reductions go to `fallback`. */
export function nativeSum(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return fallback(args);
    const r = x.shape.length;
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    if (axes.length === 0) return fallback(args);
    const leading = axes.every((v, i) => v === i);
    const trailing = axes.every((v, i) => v === r - axes.length + i);
    if (!leading && !trailing) return fallback(args);
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const nk = nativeFor(args.backend);
    const out = nk.out(outShape);
    const size = prod(x.shape);
    if (axes.length === r) nk.k.bst_sum_last(out.ptr, nk.ptr(x), 1, size);
    else if (leading) {
      const cols = prod(x.shape.slice(axes.length));
      nk.k.bst_sum_rows(out.ptr, nk.ptr(x), cols === 0 ? 0 : size / cols, cols);
    } else {
      const cols = prod(x.shape.slice(r - axes.length));
      nk.k.bst_sum_last(out.ptr, nk.ptr(x), cols === 0 ? 0 : size / cols, cols);
    }
    return out.info;
  };
}

/** GatherV2 of float32/int32 rows (batchDims 0) in C; the index check and error are the stock kernel's. */
export function nativeGather(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const indices = args.inputs.indices as tf.TensorInfo;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32' || batchDims) return fallback(args);
    const nk = nativeFor(args.backend);
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    const axisDim = x.shape[parsedAxis];
    checkGatherIndices(nk.backend.typedArrayFromHeap(indices), axisDim);
    const outShape = [...x.shape.slice(0, parsedAxis), ...indices.shape, ...x.shape.slice(parsedAxis + 1)];
    const out = nk.out(outShape, x.dtype);
    if (prod(outShape) === 0 || prod(x.shape) === 0) return out.info;
    const outer = prod(x.shape.slice(0, parsedAxis));
    const slice = prod(x.shape.slice(parsedAxis + 1));
    // the index count from the shape: a view of the heap taken before nk.out would be detached if it grew the memory
    nk.k.bst_gather(out.ptr, nk.ptr(x), nk.ptr(indices), outer, axisDim, prod(indices.shape), slice);
    return out.info;
  };
}

/** UnsortedSegmentSum of float32 x by int32 ids (the gradient of every embedding lookup). */
export function nativeSegmentSum(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const ids = args.inputs.segmentIds as tf.TensorInfo;
    const numSegments = (args.attrs as { numSegments: number }).numSegments;
    if (x.dtype !== 'float32' || ids.dtype !== 'int32') return fallback(args);
    const outShape = segmentSumOutputShape(x.shape, ids.shape, numSegments);
    const nk = nativeFor(args.backend);
    const out = nk.out(outShape);
    const n = prod(ids.shape);
    const inner = n === 0 ? 0 : prod(x.shape) / n;
    nk.k.bst_segment_sum(out.ptr, nk.ptr(x), nk.ptr(ids), n, inner, numSegments);
    return out.info;
  };
}

/** Identity that shares the input's data (the stock wasm kernel copies it). */
export const sharingIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  (backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** LeakyRelu of float32 x in one SIMD pass (the stock wasm kernel is ~20x slower than a multiply). */
export function nativeLeakyRelu(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype !== 'float32') return fallback(args);
    const nk = nativeFor(args.backend);
    const out = nk.out(x.shape);
    nk.k.bst_leaky(out.ptr, nk.ptr(x), prod(x.shape), (args.attrs as { alpha: number }).alpha);
    return out.info;
  };
}

/** dtypes whose elements are 4 bytes (copied as float32 words). */
const WORD_DTYPES = new Set(['float32', 'int32']);

/**
 * Concat of same-dtype 4-byte tensors along any axis: per input one strided 2-d copy (rows = the product of the
 * leading dimensions). The stock wasm kernel copies element by element in JavaScript for most shapes.
 */
export function nativeConcat(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const xs = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as tf.TensorInfo[];
    if (!xs.length || !WORD_DTYPES.has(xs[0].dtype) || xs.some((x) => x.dtype !== xs[0].dtype || x.shape.length === 0))
      return fallback(args);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, xs[0].shape)[0];
    const outShape = tf.backend_util.computeOutShape(
      xs.map((x) => x.shape),
      axis,
    );
    const nk = nativeFor(args.backend);
    const out = nk.out(outShape, xs[0].dtype);
    const rows = prod(outShape.slice(0, axis));
    const ld = prod(outShape.slice(axis));
    if (rows * ld === 0) return out.info;
    let col = 0;
    for (const x of xs) {
      const cols = prod(x.shape.slice(axis));
      if (cols > 0) nk.k.bst_copy2d(out.ptr + col * F, ld, nk.ptr(x), cols, rows, cols);
      col += cols;
    }
    return out.info;
  };
}

/** SplitV of a 4-byte tensor along any axis: per output one strided 2-d copy (the inverse of nativeConcat). */
export function nativeSplitV(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!WORD_DTYPES.has(x.dtype) || x.shape.length === 0) return fallback(args);
    const attrs = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits, axis);
    const nk = nativeFor(args.backend);
    const rows = prod(x.shape.slice(0, axis));
    const ld = prod(x.shape.slice(axis));
    const inner = prod(x.shape.slice(axis + 1));
    const px = nk.ptr(x);
    let col = 0;
    return sizes.map((size) => {
      const shape = x.shape.slice();
      shape[axis] = size;
      const out = nk.out(shape, x.dtype);
      const cols = size * inner;
      if (rows * cols > 0) nk.k.bst_copy2d(out.ptr, cols, px + col * F, ld, rows, cols);
      col += cols;
      return out.info;
    });
  };
}

/** Transpose by the identity permutation (tfjs's gather gradient asks for one) shares the data; others go to `fallback`. */
export function nativeTranspose(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const perm = (args.attrs as { perm: number[] }).perm;
    if (perm.every((p, i) => p === i)) return sharingIdentity(args);
    return fallback(args);
  };
}

/**
 * Multiply of float32 x [..., C] by s [..., 1] with the same leading dimensions (or the other way round): a
 * row scaling in one SIMD pass (masking embeddings; the stock kernel's broadcast path is slow). Other shapes go
 * to `fallback`.
 */
export function nativeMultiply(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const rowScale = (x: tf.TensorInfo, s: tf.TensorInfo) =>
      x.dtype === 'float32' &&
      s.dtype === 'float32' &&
      x.shape.length >= 2 &&
      s.shape.length === x.shape.length &&
      s.shape[s.shape.length - 1] === 1 &&
      x.shape[x.shape.length - 1] > 1 &&
      s.shape.slice(0, -1).every((d, i) => d === x.shape[i]);
    const [x, s] = rowScale(a, b) ? [a, b] : rowScale(b, a) ? [b, a] : [undefined, undefined];
    if (!x || !s) return fallback(args);
    const nk = nativeFor(args.backend);
    const out = nk.out(x.shape);
    const cols = x.shape[x.shape.length - 1];
    const rows = prod(x.shape) / cols;
    if (rows > 0) nk.k.bst_scale_rows(out.ptr, nk.ptr(x), nk.ptr(s), rows, cols);
    return out.info;
  };
}
