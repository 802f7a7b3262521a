/**
 * Sum over leading axes for the wasm backend: tfjs-backend-wasm 4.22 transposes the reduced axes to the end
 * first, so sum([2048, 256], axis 0) -- every bias gradient -- costs ~5 ms where one pass over the wasm heap
 * costs ~2 (bench/kernels.ts). Other reductions (trailing axes, all axes, int32) go to the stock kernel.
 *
 * (JS loops were also tried for LeakyRelu, Select and comparisons, which the stock kernels run ~20x slower
 * than a multiply; they were slower still -- branchy per-element loops -- so they are not installed.)
 */
import * as tf from '@tensorflow/tfjs';

type NumArray = Float32Array | Int32Array | Uint8Array;

/** What the wasm backend exposes that these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): NumArray;
}

/**
 * The reduced axes when they are exactly the leading axes 0..k-1 of x (k < rank), else -1.
 * (Reductions over trailing axes are fast in the stock kernel; leading ones transpose first.)
 */
export function leadingAxesCount(axis: number | number[], shape: number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= shape.length) return -1;
  return axes.every((a, i) => a === i) ? axes.length : -1;
}

/** out[j] = sum over i of x[i * inner + j], accumulated in float32 order i = 0, 1, ... (out must be zeroed). */
export function sumLeadingInto(
  x: ArrayLike<number>,
  inner: number,
  out: { [i: number]: number; length: number },
): void {
  const outer = inner === 0 ? 0 : x.length / inner;
  let p = 0;
  for (let i = 0; i < outer; i++) for (let j = 0; j < inner; j++) out[j] += x[p++];
}

/** Sum for float32 x over its leading axes (e.g. bias gradients, [B*L, D] -> [D]); other cases go to `original`. */
export function makeSumLeading(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32') return original(args);
    const k = leadingAxesCount(axis, x.shape);
    if (k < 0) return original(args);
    const innerShape = x.shape.slice(k);
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...innerShape] : innerShape;
    const be = args.backend as WasmBackendLike;
    const out = be.makeOutput(outShape, 'float32');
    const o = be.typedArrayFromHeap(out);
    o.fill(0);
    sumLeadingInto(be.typedArrayFromHeap(x), tf.util.sizeFromShape(innerShape), o);
    return out;
  };
}
