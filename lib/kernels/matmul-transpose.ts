/**
 * Wrappers for the wasm `BatchMatMul` and `_FusedMatMul` kernels that materialise transposes and fold batches.
 *
 * tfjs-backend-wasm 4.22 multiplies non-batched, non-transposed matrices with XNNPACK; with transposeA or
 * transposeB it falls back to a generic loop that is 5-20x slower (bench/kernels.ts). Every gradient of a
 * dense layer is such a matmul (dX = dY W^T, dW = X^T dY). The wrapper transposes the flagged operand with the
 * backend's own Transpose kernel (about a copy) and calls the stock kernel without the flag.
 *
 * A batched a times a non-batched b ([B, L, D] x [D, N], e.g. a projection applied to a sequence) also takes
 * the generic loop; the wrapper folds a's batch into its rows so it is one XNNPACK product.
 *
 * Products where both operands are batched (attention scores) take the generic loop either way, and there an
 * explicit transpose measured no faster, so BatchMatMul passes them through unchanged.
 *
 * _FusedMatMul is always rewritten when a flag is set: besides being slow, the stock wasm kernel adds the bias
 * along the wrong axis when transposeA or transposeB is set (e.g. [[1,2,3],[4,5,6]]^T-style inputs give
 * 11.2 where cpu gives 11.1 with bias [0.1, 0.2]); with the operands pre-transposed it is correct.
 */
import * as tf from '@tensorflow/tfjs';

/** What the wasm backend exposes that the wrapper uses. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Product of the leading (batch) dimensions of a matmul operand. */
function batchSize(shape: number[]): number {
  let s = 1;
  for (let i = 0; i < shape.length - 2; i++) s *= shape[i];
  return s;
}

/** Whether a matmul of these operands is worth rewriting: a transpose flag is set and there is no batch. */
export function shouldMaterialiseTranspose(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): boolean {
  return (transposeA || transposeB) && batchSize(aShape) === 1 && batchSize(bShape) === 1;
}

/**
 * Whether a batched `a` times a non-batched `b` can be computed as one 2D product: a [..., M, K] viewed as
 * [1, batch*M, K] (after transposing a when flagged), so XNNPACK runs it instead of the generic batched loop.
 */
export function canFoldBatch(aShape: number[], bShape: number[]): boolean {
  return batchSize(aShape) > 1 && batchSize(bShape) === 1;
}

/** The permutation swapping the last two axes of a rank-r tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Options of makeTransposingMatMul. */
export interface TransposingMatMulOptions {
  /** Rewrite every product with a transpose flag, batched or not (default false: see shouldMaterialiseTranspose). */
  always?: boolean;
}

/**
 * Build a kernel function that rewrites products of `original` (a BatchMatMul or _FusedMatMul kernel: inputs
 * a, b, ...; attrs transposeA, transposeB, ...) into explicit transposes + a plain product:
 * - non-batched products with a transpose flag (or, with `always`, any product with a flag);
 * - batched a times non-batched b (canFoldBatch): a's batch is folded into its rows, one [batch*M, K] x [K, N].
 * `transpose` is the backend's Transpose kernel; everything else goes to `original` unchanged.
 */
export function makeTransposingMatMul(
  original: tf.KernelFunc,
  transpose: tf.KernelFunc,
  options: TransposingMatMulOptions = {},
): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const flagged = !!transposeA || !!transposeB;
    const fold = canFoldBatch(a.shape, b.shape);
    const rewrite =
      fold || (options.always ? flagged : shouldMaterialiseTranspose(a.shape, b.shape, !!transposeA, !!transposeB));
    if (!rewrite) return original(args);
    const temps: tf.TensorInfo[] = [];
    const swap = (t: tf.TensorInfo): tf.TensorInfo => {
      const out = transpose({
        inputs: { x: t },
        backend,
        attrs: { perm: swapLastTwo(t.shape.length) },
      }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      let a2 = transposeA ? swap(a) : a; // [..., M, K]
      const b2 = transposeB ? swap(b) : b; // [..., K, N]
      if (!fold) {
        return original({
          inputs: { ...inputs, a: a2, b: b2 },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      }
      const [m, k] = a2.shape.slice(-2);
      const n = b2.shape[b2.shape.length - 1];
      const outShape = [
        ...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
        m,
        n,
      ];
      a2 = { dataId: a2.dataId, dtype: a2.dtype, shape: [1, batchSize(a2.shape) * m, k] }; // same buffer, [1, batch*M, K]
      const b3 = { dataId: b2.dataId, dtype: b2.dtype, shape: [1, b2.shape[b2.shape.length - 2], n] }; // [1, K, N]
      const out = original({
        inputs: { ...inputs, a: a2, b: b3 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      out.shape = outShape; // row-major [batch*M, N] is [..., M, N]
      return out;
    } finally {
      for (const t of temps) (backend as WasmBackendLike).disposeData(t.dataId);
    }
  };
}

/** Backend kernels the fused-matmul fix composes (all from the same backend). */
export interface FusedParts {
  /** BatchMatMul (inputs a, b; attrs transposeA, transposeB) */
  matMul: tf.KernelFunc;
  /** Add (inputs a, b; broadcasting) */
  add: tf.KernelFunc;
  /** activation kernels by tfjs kernel name: Relu, Relu6, Elu, Sigmoid, LeakyRelu, Prelu */
  activation: (kernelName: string) => tf.KernelFunc | undefined;
}

/** tfjs fused activation name -> kernel name (undefined for 'linear'). */
const ACTIVATION_KERNELS: Record<string, string | undefined> = {
  linear: undefined,
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * Build a replacement for the wasm `_FusedMatMul` kernel.
 * - The stock kernel adds the bias along the wrong axis once the product is batched (e.g. tf.fused.matMul of
 *   [B, L, D] x [D, N] + bias [N]). A batched a times a non-batched b is folded into one 2D product (right and
 *   fast); when b is batched too, the product is computed as BatchMatMul, Add, activation.
 * - Other products with a transpose flag: operands are transposed explicitly (faster, and the stock kernel's
 *   bias is also misplaced with transposes).
 * - The rest go to the stock kernel.
 */
export function makeFixedFusedMatMul(
  original: tf.KernelFunc,
  transpose: tf.KernelFunc,
  parts: FusedParts,
): tf.KernelFunc {
  const transposing = makeTransposingMatMul(original, transpose, { always: true });
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as tf.TensorInfo;
    const b = inputs.b as tf.TensorInfo;
    const bias = inputs.bias as tf.TensorInfo | undefined;
    // Non-batched b: either no batch at all or a foldable batch -- one 2D product, where the stock bias is right.
    if (bias == null || batchSize(b.shape) === 1) return transposing(args);
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
      leakyreluAlpha?: number;
    };
    if (!(activation in ACTIVATION_KERNELS)) return transposing(args); // let the stock kernel raise its error
    const temps: tf.TensorInfo[] = [];
    const keep = (t: tf.TensorInfo) => (temps.push(t), t);
    const free = (backend as WasmBackendLike).disposeData.bind(backend);
    try {
      const product = keep(
        parts.matMul({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } }) as tf.TensorInfo,
      ); // [batch, M, N]
      const biased = parts.add({ inputs: { a: product, b: bias }, backend }) as tf.TensorInfo; // [batch, M, N]
      const actName = ACTIVATION_KERNELS[activation];
      if (actName === undefined) return biased;
      keep(biased);
      const act = parts.activation(actName);
      if (!act) throw new Error(`_FusedMatMul fix: backend has no ${actName} kernel`);
      const out =
        actName === 'Prelu'
          ? act({ inputs: { x: biased, alpha: inputs.preluActivationWeights }, backend })
          : act({
              inputs: { x: biased },
              backend,
              attrs: actName === 'LeakyRelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {},
            });
      return out as tf.TensorInfo;
    } finally {
      for (const t of temps) free(t.dataId);
    }
  };
}
