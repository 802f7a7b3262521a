/** Messages and shared-memory layout between the data-parallel trainer (main thread) and its workers. */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { FeatureSizes, Samples } from '../../data/types';
import { BstConfig } from '../../model/config';

/** How long a waiting rank polls before it sleeps (ms); see ExchangeBuffers.waitAll. */
export const SPIN_MS = 5;

/**
 * The polling time for `ranks` threads on this machine: SPIN_MS when every thread has a core of its own, else 0
 * (a polling thread would take the core the thread it waits for needs).
 */
export function spinMsFor(ranks: number, cores: number = os.cpus().length): number {
  return cores >= ranks ? SPIN_MS : 0;
}

/** Where each weight lives in a shared Float32Array: offsets and shapes, in model.net.weights order. */
export interface WeightLayout {
  shapes: number[][];
  offsets: number[];
  /** total float count */
  total: number;
}

/** workerData of a training worker. */
export interface TrainWorkerData {
  [key: string]: unknown;
  config: BstConfig;
  sizes: FeatureSizes;
  /** our backend name to initialise ('wasm', 'cpu') and the tfjs name it must end up as */
  backend: string;
  tfBackend: string;
  /** the main thread's kernelSignature (trainer.ts): the worker must end up with the same kernels */
  kernels: string[];
  /** this worker's rank (1 .. W - 1; the main thread is rank 0) and W */
  rank: number;
  ranks: number;
  /** the main thread's weights at start (model.net.weights order); copied once, then every rank applies the same updates */
  weights: SharedArrayBuffer;
  weightLayout: WeightLayout;
  /** gradients of every rank, double-buffered by step parity: see ExchangeBuffers */
  grads: SharedArrayBuffer;
  gradLayout: WeightLayout;
  /** per (parity, rank, trainable weight): 1 when that rank wrote a gradient for it */
  has: SharedArrayBuffer;
  /** Int32 per (parity, rank): the step sequence number whose gradients it has written (-seq: abandoned); then a close flag */
  control: SharedArrayBuffer;
  /** indices into model.net.weights of the trainable weights */
  trainableIndex: number[];
}

/** An optimizer as the workers rebuild it: registered class name, config and state (getWeights order). */
export interface OptimizerSpec {
  className: string;
  config: tf.serialization.ConfigDict;
  /** optimizer.getWeights(): names, shapes and values (empty before the first step) */
  state: { name: string; shape: number[]; values: Float32Array }[];
  /** Adam's running products beta1^t and beta2^t, copied exactly (setWeights recomputes them with pow) */
  accBeta1?: number;
  accBeta2?: number;
}

/** Main -> worker, once before the first step: build this optimizer with this state. */
export interface OptimizerMessage {
  type: 'optimizer';
  spec: OptimizerSpec;
}

/** Main -> worker: compute the gradients of a shard, exchange them, apply the average. */
export interface StepMessage {
  type: 'step';
  /** the trainer's step sequence number (1, 2, ...): parity picks the gradient buffers */
  seq: number;
  /** the dropout step for this shard (unique per step and shard) */
  dropoutStep: number;
  /** this rank's rows (null: fewer samples than ranks, this rank only applies the average) */
  shard: Samples | null;
  /** per rank: its rows / the batch's rows (the averaging weights, identical on every rank) */
  shardWeights: number[];
  /** also return a checksum of the weights the worker holds before the step */
  check: boolean;
}

/** Worker -> main after a step's gradients are written (the worker then waits for the others and applies). */
export interface GradsReply {
  type: 'grads';
  loss: number;
  /** tensors alive in the worker after its previous step (leak check) */
  numTensors: number;
  checksum?: number;
  /** milliseconds the worker spent computing this step's gradients, and waiting + applying in its previous step */
  computeMs: number;
  applyMs: number;
}

/**
 * The shared buffers of the gradient exchange, as views. Step `seq` uses parity seq % 2: a rank may start
 * writing step seq + 1 while a slower rank still reads step seq.
 *
 * The announcements are double-buffered the same way: rank r announces step seq in its control slot of parity
 * seq % 2 (seq: published, -seq: abandoned). A rank is never more than one step ahead of a rank still waiting
 * (a worker replies to step seq before it waits for seq, and the main thread starts step seq + 2 only after
 * every worker replied to seq + 1, which each does after it finished seq), so the slot a waiter reads is not
 * written again until the waiter is done with it: the waiter sees seq or -seq, whatever the interleaving. (One
 * slot per rank, as before, let the main thread overwrite seq with seq + 1 before a descheduled worker had
 * read it, and the worker then waited for seq forever.)
 */
export class ExchangeBuffers {
  private readonly control: Int32Array;
  private readonly grads: Float32Array;
  private readonly hasFlags: Int32Array;

  constructor(
    grads: SharedArrayBuffer,
    has: SharedArrayBuffer,
    control: SharedArrayBuffer,
    readonly ranks: number,
    readonly layout: WeightLayout,
  ) {
    this.grads = new Float32Array(grads);
    this.hasFlags = new Int32Array(has);
    this.control = new Int32Array(control);
  }

  /** Allocate the buffers for `ranks` ranks and a gradient layout. */
  static allocate(
    ranks: number,
    layout: WeightLayout,
  ): { grads: SharedArrayBuffer; has: SharedArrayBuffer; control: SharedArrayBuffer } {
    return {
      grads: new SharedArrayBuffer(2 * ranks * layout.total * 4),
      has: new SharedArrayBuffer(2 * ranks * layout.shapes.length * 4),
      control: new SharedArrayBuffer((2 * ranks + 1) * 4), // (parity, rank) slots, then the close flag
    };
  }

  /** Rank r's gradient of trainable weight i for step seq (a view). */
  grad(seq: number, rank: number, i: number): Float32Array {
    const off = this.layout.offsets[i];
    const end = i + 1 < this.layout.offsets.length ? this.layout.offsets[i + 1] : this.layout.total;
    return this.flat(seq, rank).subarray(off, end);
  }

  /** Index in `control` of rank r's announcement slot for step seq. */
  private slot(seq: number, rank: number): number {
    return (seq % 2) * this.ranks + rank;
  }

  private hasIndex(seq: number, rank: number, i: number): number {
    return ((seq % 2) * this.ranks + rank) * this.layout.shapes.length + i;
  }

  /** Write this rank's gradients for step seq (undefined: no gradient reached that weight) and announce them. */
  publish(seq: number, rank: number, grads: (Float32Array | undefined)[]): void {
    grads.forEach((g, i) => {
      if (g) this.grad(seq, rank, i).set(g);
      else this.grad(seq, rank, i).fill(0); // contributes nothing to the average
      this.hasFlags[this.hasIndex(seq, rank, i)] = g ? 1 : 0;
    });
    this.announce(seq, rank, seq);
  }

  /** Announce that step seq was abandoned by this rank (nobody applies it). */
  abandon(seq: number, rank: number): void {
    this.announce(seq, rank, -seq);
  }

  private announce(seq: number, rank: number, value: number): void {
    if (!(Number.isInteger(seq) && seq >= 1))
      throw new RangeError(`ExchangeBuffers: step sequence numbers start at 1, got ${seq}`);
    const at = this.slot(seq, rank);
    Atomics.store(this.control, at, value);
    Atomics.notify(this.control, at);
  }

  /** The announcement of every rank for step seq's parity (seq, -seq, or an older step's): for diagnostics. */
  announced(seq: number): number[] {
    return Array.from({ length: this.ranks }, (_, r) => Atomics.load(this.control, this.slot(seq, r)));
  }

  /** Ask every waiting rank to stop. */
  close(): void {
    const flag = this.control.length - 1;
    Atomics.store(this.control, flag, 1);
    for (let i = 0; i <= flag; i++) Atomics.notify(this.control, i);
  }

  /** Whether close() was called (by any thread). */
  get closed(): boolean {
    return Atomics.load(this.control, this.control.length - 1) === 1;
  }

  /**
   * Wait until every rank has published step seq: 'ready', 'abandoned' when one abandoned it, 'closed', or
   * 'timeout' after `timeoutMs`. It polls for the first `spinMs` before sleeping in Atomics.wait: waking a
   * sleeping thread costs 1-2.5 ms on this kind of virtual machine (the idle vCPU must be rescheduled), about
   * a tenth of a step, while the ranks usually finish within a millisecond of each other. The main thread
   * passes sleep = false (it must not block its event loop): it only polls, up to timeoutMs. It sleeps on the
   * value it last read, so an announcement between that read and the sleep ends the sleep at once.
   */
  waitAll(
    seq: number,
    o: { spinMs?: number; timeoutMs?: number; sleep?: boolean } = {},
  ): 'ready' | 'abandoned' | 'closed' | 'timeout' {
    const spinMs = o.spinMs ?? spinMsFor(this.ranks);
    const timeoutMs = o.timeoutMs ?? Infinity;
    const sleep = o.sleep ?? true;
    const t0 = performance.now();
    for (let r = 0; r < this.ranks; r++) {
      const at = this.slot(seq, r);
      for (let polls = 0; ; polls++) {
        const v = Atomics.load(this.control, at);
        if (v === seq) break;
        if (v === -seq) return 'abandoned';
        if (this.closed) return 'closed';
        if ((polls & 63) !== 63) continue;
        const waited = performance.now() - t0;
        if (waited >= timeoutMs) return 'timeout';
        if (sleep && waited >= spinMs) Atomics.wait(this.control, at, v, Math.min(50, timeoutMs - waited));
      }
    }
    return 'ready';
  }

  /** All of rank r's gradients for step seq, packed in layout order (a view). */
  flat(seq: number, rank: number): Float32Array {
    const base = ((seq % 2) * this.ranks + rank) * this.layout.total;
    return this.grads.subarray(base, base + this.layout.total);
  }

  /** Per trainable weight: whether any rank with a non-zero weight published a gradient for it in step seq. */
  hasAny(seq: number, weights: number[]): boolean[] {
    return this.layout.shapes.map((_, i) => {
      for (let r = 0; r < this.ranks; r++) if (weights[r] && this.hasFlags[this.hasIndex(seq, r, i)]) return true;
      return false;
    });
  }
}

/** Layout of the given shapes packed one after another. */
export function layoutOf(shapes: number[][]): WeightLayout {
  const offsets: number[] = [];
  let total = 0;
  for (const s of shapes) {
    offsets.push(total);
    total += s.reduce((a, b) => a * b, 1);
  }
  return { shapes: shapes.map((s) => s.slice()), offsets, total };
}

/** A cheap order-sensitive checksum (FNV-1a over the float bit patterns) of arrays of float32 values. */
export function checksumOf(arrays: Float32Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193);
  }
  return h >>> 0;
}

/** What the wasm backend offers for reading and writing tensor data in place (tfjs-backend-wasm 4.22). */
interface HeapBackend {
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array;
  refCount(dataId: object): number;
}

function heapBackend(): HeapBackend | undefined {
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function'
    ? (b as HeapBackend)
    : undefined;
}

/**
 * A float32 tensor's values without a copy where the backend allows it (wasm: a view of its heap, valid only until
 * the next tensor allocation -- use it at once), else dataSync().
 */
export function readNow(t: tf.Tensor): Float32Array {
  const b = heapBackend();
  return b
    ? b.typedArrayFromHeap(t as unknown as { dataId: object; shape: number[]; dtype: string })
    : (t.dataSync() as Float32Array);
}

/** v's values := src, in place when v owns its data alone on wasm (no allocation), else by assign. */
export function writeVariable(v: tf.Variable, src: Float32Array): void {
  const b = heapBackend();
  const info = v as unknown as { dataId: object; shape: number[]; dtype: string };
  if (b && b.refCount(info.dataId) === 1) {
    b.typedArrayFromHeap(info).set(src);
    return;
  }
  tf.tidy(() => v.assign(tf.tensor(src.slice(), v.shape, 'float32')));
}
