/**
 * A linear-time `UnsortedSegmentSum` (the gradient of `tf.gather`, hence of every embedding lookup).
 *
 * Semantics are TensorFlow's (tf.math.unsorted_segment_sum): segmentIds has shape x.shape[0..k) (k = 1 in
 * tfjs's docs and in the gather gradient), the output has shape [numSegments, ...x.shape[k..)] and
 *   out[s, ...] = sum of x[i, ...] over all index tuples i (of length k) with segmentIds[i] == s.
 * Ids outside [0, numSegments) (negative, too large, or not integers) are dropped, as tf does.
 * For k = 1 this equals tfjs 4.22's stock cpu kernel; for k > 1 the stock kernel fails to broadcast.
 *
 * - wasm: tfjs 4.22 registers no UnsortedSegmentSum kernel at all; this one works on the wasm heap directly.
 * - cpu: the stock kernel builds one mask per segment (vocab x batch work); this one is one scatter-add pass.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from './registry';

type NumArray = Float32Array | Int32Array | Uint8Array;

/** What the wasm backend exposes that this kernel uses (BackendWasm in tfjs-backend-wasm 4.22). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.TypedArray): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): NumArray;
}

/** What the cpu backend exposes that this kernel uses (MathBackendCPU in tfjs-backend-cpu 4.22). */
interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** Output shape of UnsortedSegmentSum; throws KernelError when segmentIds' shape is not a prefix of x's. */
export function segmentSumOutputShape(xShape: number[], idsShape: number[], numSegments: number): number[] {
  const prefixOk =
    idsShape.length >= 1 && idsShape.length <= xShape.length && idsShape.every((d, i) => d === xShape[i]);
  if (!prefixOk) {
    throw new KernelError(
      `UnsortedSegmentSum: segmentIds shape [${idsShape}] must be a leading part of x shape [${xShape}]`,
    );
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new KernelError(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  return [numSegments, ...xShape.slice(idsShape.length)];
}

/**
 * out[...] += x[...] scattered by segment id (see the file comment for the exact semantics).
 * `out` must have size numSegments * (x.length / ids.length) and is NOT cleared here. One pass over x.
 */
export function segmentSumInto(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  out: { [i: number]: number },
): void {
  const n = ids.length;
  if (n === 0) return;
  const inner = x.length / n; // elements of x per id = size of one output segment
  let p = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (id >= 0 && id < numSegments && id === Math.floor(id)) {
      let o = id * inner;
      for (let j = 0; j < inner; j++) out[o++] += x[p++];
    } else {
      p += inner;
    }
  }
}

function checkDtypes(x: tf.TensorInfo, ids: tf.TensorInfo): void {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new KernelError(`UnsortedSegmentSum: x must be float32 or int32, got ${x.dtype}`);
  }
  if (ids.dtype === 'string' || ids.dtype === 'complex64') {
    throw new KernelError(`UnsortedSegmentSum: segmentIds must be numeric, got ${ids.dtype}`);
  }
}

/** Kernel function for the wasm backend: reads and writes the wasm heap, no copies. */
export const unsortedSegmentSumWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const ids = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  checkDtypes(x, ids);
  const outShape = segmentSumOutputShape(x.shape, ids.shape, numSegments);
  const b = backend as WasmBackendLike;
  const out = b.makeOutput(outShape, x.dtype);
  // Views are taken after the allocation: a heap growth in makeOutput would detach earlier views.
  const outView = b.typedArrayFromHeap(out);
  outView.fill(0);
  segmentSumInto(b.typedArrayFromHeap(x), b.typedArrayFromHeap(ids), numSegments, outView);
  return out;
};

/** Kernel function for the cpu backend: one scatter-add pass instead of one mask per segment. */
export const unsortedSegmentSumCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const ids = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  checkDtypes(x, ids);
  const outShape = segmentSumOutputShape(x.shape, ids.shape, numSegments);
  const b = backend as CpuBackendLike;
  const size = outShape.reduce((a, d) => a * d, 1);
  const out = x.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  const xs = b.readSync(x.dataId) as NumArray;
  const is = b.readSync(ids.dataId) as NumArray;
  segmentSumInto(xs, is, numSegments, out);
  return b.makeTensorInfo(outShape, x.dtype, out);
};
