/**
 * bst-lab's own WebAssembly kernels (lib/kernels/native/bst_kernels.c, built by scripts/build-kernels.ts and
 * committed as bst_kernels.wasm) running inside the tfjs wasm backend's own memory.
 *
 * The module imports the backend's WebAssembly.Memory, so kernels read and write tensors where tfjs keeps them
 * (no copies). It is used only with the exact tfjs-backend-wasm version it was written for: the memory layout
 * and the backend internals it relies on (dataIdMap offsets, _malloc) are not public API.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { OutOfMemoryError } from '../util/errors';

/** The parts of the WebAssembly JS API used here (the project's type libraries do not declare it). */
export interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(m: object): { module: string; name: string; kind: string }[] };
  Instance: new (m: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum?: number }) => object;
  validate(bytes: Uint8Array): boolean;
}
/** The runtime's WebAssembly object. */
export const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The tfjs-backend-wasm version the native kernels were written and tested for. */
export const NATIVE_TFJS_VERSION = '4.22.0';

/** Built module files, next to the C source. The relaxed-SIMD build is used when the runtime validates it. */
export const NATIVE_WASM_FILE = path.join(__dirname, 'native', 'bst_kernels.wasm');
export const NATIVE_RELAXED_WASM_FILE = path.join(__dirname, 'native', 'bst_kernels_relaxed.wasm');

/** The C functions (pointers are byte offsets into the shared memory; sizes in elements). */
export interface NativeExports {
  bst_copy(out: number, x: number, n: number): void;
  bst_copy2d(dst: number, dstLd: number, src: number, srcLd: number, rows: number, cols: number): void;
  bst_scale_rows(out: number, x: number, s: number, rows: number, cols: number): void;
  bst_transpose2d(out: number, x: number, rows: number, cols: number): void;
  bst_transpose_batched(out: number, x: number, batch: number, rows: number, cols: number): void;
  /** floats of scratch bst_matmul needs for a K x N right operand */
  bst_matmul_scratch(k: number, n: number): number;
  bst_matmul(
    c: number,
    a: number,
    b: number,
    m: number,
    k: number,
    n: number,
    transA: number,
    transB: number,
    scratch: number,
    bias: number,
    act: number,
    alpha: number,
  ): void;
  bst_sum_rows(out: number, x: number, rows: number, cols: number): void;
  bst_sum_last(out: number, x: number, rows: number, cols: number): void;
  bst_gather(out: number, x: number, idx: number, outer: number, dim: number, n: number, slice: number): void;
  bst_segment_sum(out: number, x: number, ids: number, n: number, inner: number, numSegments: number): void;
  bst_layernorm(
    y: number,
    mean: number,
    rstd: number,
    x: number,
    gamma: number,
    beta: number,
    rows: number,
    d: number,
    eps: number,
  ): void;
  bst_layernorm_grad(
    dx: number,
    dgamma: number,
    dbeta: number,
    dy: number,
    x: number,
    gamma: number,
    mean: number,
    rstd: number,
    rows: number,
    d: number,
  ): void;
  bst_leaky(y: number, x: number, n: number, alpha: number): void;
  bst_leaky_grad(dx: number, dy: number, x: number, n: number, alpha: number): void;
  bst_attention(
    ctx: number,
    probs: number,
    q: number,
    k: number,
    v: number,
    mask: number,
    b: number,
    l: number,
    d: number,
    h: number,
    scale: number,
    scratch: number,
  ): void;
  bst_attention_scratch(l: number, dh: number): number;
  bst_attention_grad_scratch(l: number, dh: number): number;
  bst_attention_grad(
    dq: number,
    dk: number,
    dv: number,
    scratch: number,
    dctx: number,
    probs: number,
    q: number,
    k: number,
    v: number,
    b: number,
    l: number,
    d: number,
    h: number,
    scale: number,
  ): void;
  bst_dropout(y: number, x: number, n: number, seed: number, rate: number, scale: number): void;
  bst_adam(
    p2: number,
    m2: number,
    v2: number,
    p: number,
    m: number,
    v: number,
    g: number,
    g2: number,
    wa: number,
    wb: number,
    n: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    c1: number,
    c2: number,
  ): void;
}

/** What this module uses of tfjs-backend-wasm 4.22's BackendWasm. */
export interface WasmBackendLike {
  wasm: { asm?: { memory?: object }; HEAPF32: Float32Array; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: object): void;
}

/**
 * Largest wasm heap: wasm32 addresses 4 GiB, and tfjs-backend-wasm's module declares that maximum
 * (65536 pages of 64 KiB). An allocation that cannot fit below it fails.
 */
export const WASM_HEAP_LIMIT_BYTES = 65536 * 65536;

/**
 * Largest request passed on to malloc: the heap's first 64 KiB page always holds static data, so a larger request
 * cannot fit, and tfjs-backend-wasm's malloc adds its overhead to the size in 32 bits: requests within a few bytes
 * of 4 GiB wrap to small ones and return a live chunk (measured: a 4 GiB - 64 byte request returned the address of
 * a freed 4-byte tensor).
 */
export const WASM_MAX_ALLOC_BYTES = WASM_HEAP_LIMIT_BYTES - 65536;

/** Current size of the wasm heap of a tfjs-backend-wasm backend (bytes; 0 when not available). */
export function wasmHeapBytes(backend: object): number {
  const be = backend as Partial<WasmBackendLike>;
  return be.wasm?.HEAPF32?.buffer.byteLength ?? 0;
}

function oom(what: string, bytes: number, heap: number): OutOfMemoryError {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  return new OutOfMemoryError(
    `${what}: cannot allocate ${bytes} bytes (${mb(bytes)}) on the wasm heap of ${mb(heap)} ` +
      `(limit ${mb(WASM_HEAP_LIMIT_BYTES)}); nothing was written. Use a smaller batch size or sequence length, ` +
      'or free tensors (tf.memory() shows what is live)',
    bytes,
    heap,
  );
}

/**
 * `_malloc` on the wasm heap, refusing instead of returning 0: throws an OutOfMemoryError (bytes requested,
 * heap size) when the request exceeds WASM_MAX_ALLOC_BYTES (malloc's 32-bit size would wrap) or malloc fails.
 */
export function checkedMalloc(backend: object, bytes: number, what: string): number {
  const be = backend as WasmBackendLike;
  if (!(Number.isInteger(bytes) && bytes >= 0 && bytes <= WASM_MAX_ALLOC_BYTES))
    throw oom(what, bytes, wasmHeapBytes(be));
  let ptr = 0;
  try {
    ptr = be.wasm._malloc(bytes);
  } catch (e) {
    if (!(e instanceof OutOfMemoryError)) throw e; // the guarded malloc refused: say who asked
  }
  if (ptr === 0) throw oom(what, bytes, wasmHeapBytes(be));
  return ptr;
}

const guarded = new WeakSet<object>();

/**
 * Make tfjs-backend-wasm's own allocations fail loudly. Its `move` stores `wasm._malloc(numBytes)` as the tensor's
 * offset without checking; when the heap is full malloc returns 0 and the new tensor is written over address 0..,
 * i.e. over live tensors (and a size near or above 4 GiB wraps to a small request that returns a live chunk). The
 * backend's module `_malloc` is wrapped
 * so both throw an OutOfMemoryError instead. Idempotent; returns true when the guard is (now) installed.
 */
export function guardWasmMalloc(backend: object): boolean {
  const be = backend as Partial<WasmBackendLike>;
  const wasm = be.wasm as (WasmBackendLike['wasm'] & { _malloc: (bytes: number) => number }) | undefined;
  if (!wasm || typeof wasm._malloc !== 'function') return false;
  if (guarded.has(wasm)) return true;
  // Emscripten's Module._malloc is a lazy stub that replaces itself with asm.malloc on first call (which would
  // overwrite the guard), so wrap the export itself when it is reachable.
  const asm = (wasm as { asm?: { malloc?: (bytes: number) => number } }).asm;
  const malloc = typeof asm?.malloc === 'function' ? asm.malloc : wasm._malloc.bind(wasm);
  const guard = (bytes: number): number => {
    if (!(bytes >= 0 && bytes <= WASM_MAX_ALLOC_BYTES)) throw oom('tfjs-backend-wasm', bytes, wasmHeapBytes(be));
    const ptr = malloc(bytes);
    if (ptr === 0) throw oom('tfjs-backend-wasm', bytes, wasmHeapBytes(be));
    return ptr;
  };
  wasm._malloc = guard;
  guarded.add(wasm);
  return true;
}

/** The kernels bound to one backend instance, with a reusable scratch buffer on its heap. */
export class NativeKernels {
  private scratchPtr = 0;
  private scratchBytes = 0;

  constructor(
    readonly backend: WasmBackendLike,
    readonly k: NativeExports,
    readonly relaxedSimd: boolean,
  ) {}

  /** Byte offset of a tensor's data in the shared memory. */
  ptr(t: tf.TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('native kernels: tensor data is not on the wasm backend');
    return d.memoryOffset;
  }

  /** A new output tensor and its offset. */
  out(shape: number[], dtype: tf.DataType = 'float32'): { info: tf.TensorInfo; ptr: number } {
    const info = this.backend.makeOutput(shape, dtype);
    return { info, ptr: this.ptr(info) };
  }

  /**
   * Offset of a scratch area of at least `floats` float32s (valid until the next call). Throws an
   * OutOfMemoryError naming the bytes and heap size when the heap cannot hold it (then no scratch is held).
   */
  scratch(floats: number): number {
    const bytes = Math.max(4, floats * 4);
    if (bytes > this.scratchBytes) {
      // grow geometrically when that fits, else exactly
      let size = Math.max(bytes, this.scratchBytes * 2);
      if (this.scratchPtr) this.backend.wasm._free(this.scratchPtr);
      this.scratchPtr = 0;
      this.scratchBytes = 0;
      try {
        this.scratchPtr = checkedMalloc(this.backend, size, 'native kernels scratch');
      } catch (e) {
        if (size === bytes) throw e;
        size = bytes;
        this.scratchPtr = checkedMalloc(this.backend, size, 'native kernels scratch');
      }
      this.scratchBytes = size;
    }
    return this.scratchPtr;
  }
}

/** Why the native kernels are unavailable ('' when available). */
export function nativeUnavailableReason(): string {
  let version = '';
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    version = require('@tensorflow/tfjs-backend-wasm/package.json').version;
  } catch {
    return 'tfjs-backend-wasm is not installed';
  }
  if (version !== NATIVE_TFJS_VERSION) {
    return `they were written for tfjs-backend-wasm ${NATIVE_TFJS_VERSION}, found ${version}`;
  }
  if (!fs.existsSync(NATIVE_WASM_FILE)) return `${NATIVE_WASM_FILE} is missing (run npm run build:kernels)`;
  return '';
}

const compiled: { plain?: object; relaxed?: object | null } = {};
const bound = new WeakMap<object, NativeKernels>();

/**
 * Whether relaxed-SIMD kernels run here (validated against the relaxed build). Node 20's V8 implements relaxed
 * SIMD behind --experimental-wasm-relaxed-simd; the flag is switched on for this process when needed (set
 * BST_RELAXED_SIMD=0 to keep plain SIMD). Relaxed multiply-add may round differently on different CPUs
 * (fused or not), never on one machine.
 */
export function relaxedSimdSupported(): boolean {
  if (compiled.relaxed === undefined) {
    compiled.relaxed = null;
    if (process.env.BST_RELAXED_SIMD !== '0' && fs.existsSync(NATIVE_RELAXED_WASM_FILE)) {
      const bytes = fs.readFileSync(NATIVE_RELAXED_WASM_FILE);
      let ok = WASM.validate(bytes);
      if (!ok && /^v20\./.test(process.version)) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        require('v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
        ok = WASM.validate(bytes);
      }
      if (ok) compiled.relaxed = new WASM.Module(bytes);
    }
  }
  return compiled.relaxed !== null;
}

/**
 * The native kernels bound to `backend` (a tfjs-backend-wasm 4.22 BackendWasm), instantiated on first use
 * over the backend's memory. Throws when the backend does not expose its memory.
 */
export function nativeFor(backend: object): NativeKernels {
  const have = bound.get(backend);
  if (have) return have;
  const nk = instantiateNative(backend, relaxedSimdSupported());
  bound.set(backend, nk);
  return nk;
}

/** A fresh instance of the plain-SIMD or relaxed-SIMD build over `backend`'s memory (tests compare the two). */
export function instantiateNative(backend: object, relaxed: boolean): NativeKernels {
  const be = backend as WasmBackendLike;
  const memory = be.wasm?.asm?.memory;
  if (!(memory instanceof WASM.Memory)) throw new Error('native kernels: the wasm backend does not expose its memory');
  if (relaxed && !relaxedSimdSupported())
    throw new Error('native kernels: relaxed SIMD is not available in this runtime');
  if (!compiled.plain) compiled.plain = new WASM.Module(fs.readFileSync(NATIVE_WASM_FILE));
  const mod = relaxed ? (compiled.relaxed as object) : compiled.plain;
  const instance = new WASM.Instance(mod, { env: { memory } });
  guardWasmMalloc(be); // the kernels' outputs come from the backend's allocator
  return new NativeKernels(be, instance.exports as unknown as NativeExports, relaxed);
}
