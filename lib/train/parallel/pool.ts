/**
 * A small pool of Node worker threads running a TypeScript module. Each worker is started from an eval'd
 * bootstrap that registers tsx and requires the module by absolute path, so the same code runs under tsx
 * scripts, jest and tslab without a compiled .js file. One request at a time per worker; a worker's error
 * (thrown in its handler, uncaught, or an unexpected exit) rejects that worker's request with a WorkerError
 * carrying the worker's message, and marks the pool broken so later requests fail at once instead of hanging.
 */
import { Worker } from 'worker_threads';
import { TrainingError } from '../../util/errors';

/** An error raised in (or by the loss of) a worker thread. `workerStack` holds the worker-side stack. */
export class WorkerError extends TrainingError {
  constructor(
    message: string,
    readonly worker: number,
    readonly workerStack?: string,
  ) {
    super(message);
  }
}

/** What a worker module posts back: a reply, or { type: 'error', name, message, stack }. */
export interface WorkerReply {
  type: string;
  [key: string]: unknown;
}

/** Options of WorkerPool.start. */
export interface WorkerPoolOptions {
  /** absolute path of the worker module (.ts or .js) */
  script: string;
  /** number of worker threads (>= 1) */
  count: number;
  /** data passed to worker i as workerData (structured-cloned; SharedArrayBuffers are shared) */
  workerData: (index: number) => Record<string, unknown>;
  /** what the pool's errors call the work (e.g. 'training worker') */
  label?: string;
}

const BOOTSTRAP = `
const { workerData } = require('worker_threads');
require(workerData.__tsxApi).register();
require(workerData.__script);
`;

interface Slot {
  worker: Worker;
  pending?: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
  exited: boolean;
}

/** A pool of worker threads; see the file comment. Create with WorkerPool.start, end with close(). */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private broken?: WorkerError;
  private closed = false;
  private readonly label: string;

  private constructor(label: string) {
    this.label = label;
  }

  /**
   * Start `count` workers and wait until each has posted { type: 'ready' } (its reply is returned per worker).
   * A worker that fails to start rejects with its message; the others are terminated.
   */
  static async start(o: WorkerPoolOptions): Promise<{ pool: WorkerPool; ready: WorkerReply[] }> {
    const pool = new WorkerPool(o.label ?? 'worker');
    const tsxApi = require.resolve('tsx/cjs/api');
    for (let i = 0; i < o.count; i++) {
      const worker = new Worker(BOOTSTRAP, {
        eval: true,
        workerData: { ...o.workerData(i), __script: o.script, __tsxApi: tsxApi, __index: i },
        stdout: false,
        stderr: false,
      });
      const slot: Slot = { worker, exited: false };
      pool.slots.push(slot);
      worker.on('message', (m: WorkerReply) => pool.onMessage(i, m));
      worker.on('error', (e: Error) => pool.fail(i, `${e.name}: ${e.message}`, e.stack));
      worker.on('messageerror', (e: Error) => pool.fail(i, `message could not be deserialised: ${e.message}`));
      worker.on('exit', (code) => {
        slot.exited = true;
        if (!pool.closed) pool.fail(i, `exited unexpectedly with code ${code}`);
      });
    }
    try {
      const ready = await Promise.all(pool.slots.map((_, i) => pool.expect(i)));
      pool.idle();
      return { pool, ready };
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Send a message to worker i and return a promise of its reply. The promise already has a handler attached,
   * so a rejection nobody awaits (the caller failed first) is not an unhandled rejection.
   */
  request(i: number, message: unknown, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new WorkerError(`${this.label} pool is closed`, i));
    const slot = this.slots[i];
    if (slot.pending) return Promise.reject(new WorkerError(`${this.label} ${i + 1}: a request is already pending`, i));
    const p = this.expect(i);
    slot.worker.ref();
    slot.worker.postMessage(message, transfer);
    return p;
  }

  /** Terminate every worker (idempotent); pending requests reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new WorkerError(`${this.label} pool closed`, -1);
    for (const s of this.slots) {
      s.pending?.reject(err);
      s.pending = undefined;
    }
    await Promise.all(this.slots.map((s) => (s.exited ? undefined : s.worker.terminate())));
  }

  /** Idle workers do not keep the process alive (a forgotten close() cannot hang the exit). */
  private idle(): void {
    for (const s of this.slots) if (!s.pending) s.worker.unref();
  }

  private expect(i: number): Promise<WorkerReply> {
    const p = new Promise<WorkerReply>((resolve, reject) => {
      this.slots[i].pending = { resolve, reject };
    });
    p.catch(() => undefined);
    return p;
  }

  private onMessage(i: number, m: WorkerReply): void {
    if (m && m.type === 'error') {
      this.fail(
        i,
        `${String(m.name ?? 'Error')}: ${String(m.message)}`,
        typeof m.stack === 'string' ? m.stack : undefined,
      );
      return;
    }
    const slot = this.slots[i];
    const pending = slot.pending;
    slot.pending = undefined;
    slot.worker.unref();
    pending?.resolve(m);
  }

  private fail(i: number, message: string, stack?: string): void {
    if (this.closed) return;
    const err = new WorkerError(`${this.label} ${i + 1} of ${this.slots.length} failed: ${message}`, i, stack);
    if (!this.broken) this.broken = err;
    for (const s of this.slots) {
      const pending = s.pending;
      s.pending = undefined;
      pending?.reject(this.broken);
    }
    // A failed pool is of no further use: stop the others now (close() later is a no-op for them).
    for (const s of this.slots) if (!s.exited) void s.worker.terminate().catch(() => undefined);
  }
}
