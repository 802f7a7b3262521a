/**
 * A full wasm heap must raise an OutOfMemoryError, never hand out address 0 or a wrapped small chunk
 * (tfjs-backend-wasm does not check malloc; the new tensor would then be written over live ones). Requests are
 * made to fail cheaply -- sizes near the 4 GiB wasm32 limit that cannot fit beside the current heap -- so no
 * memory is actually committed.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/kernels/backend';
import {
  nativeFor,
  nativeUnavailableReason,
  WASM_HEAP_LIMIT_BYTES,
  WASM_MAX_ALLOC_BYTES,
  wasmHeapBytes,
} from '../../lib/kernels';
import { OutOfMemoryError } from '../../lib/util/errors';

const FLOATS_TOO_MANY = WASM_HEAP_LIMIT_BYTES / 4 - 16; // 4 GiB - 64 bytes: cannot fit next to anything

describe('wasm allocation guard', () => {
  let prev: string;
  beforeAll(async () => {
    prev = tf.getBackend();
    await selectBackend({ choice: 'wasm', log: () => undefined });
  });
  afterAll(async () => {
    if (prev) await tf.setBackend(prev);
  });

  test('selectBackend wraps the backend malloc: a failed request throws with the bytes and the heap size', () => {
    expect(tf.getBackend()).toBe('wasm');
    const wasm = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
    // passes the size check, but cannot fit beside the heap in use: the real malloc returns 0
    const bytes = WASM_MAX_ALLOC_BYTES - 65536;
    const heap = wasmHeapBytes(tf.backend());
    expect(heap + bytes).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES);
    let err: unknown;
    try {
      wasm._malloc(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const oom = err as OutOfMemoryError;
    expect(oom.bytesRequested).toBe(bytes);
    expect(oom.heapBytes).toBe(heap);
    expect(oom.message).toContain(`cannot allocate ${bytes} bytes`);
    expect(oom.message).toMatch(/on the wasm heap of \d+\.\d MB/);
    const p = wasm._malloc(64); // still works
    expect(p).toBeGreaterThan(0);
    wasm._free(p);
  });

  test('a tensor that does not fit throws OutOfMemoryError and live tensors keep their values', () => {
    const live = tf.fill([4096], 7);
    const before = tf.memory().numTensors;
    const one = tf.tensor1d([1]);
    // Tile's output is allocated by the backend and then written by C++: unguarded, at offset 0, over `live`
    expect(() => tf.tile(one, [FLOATS_TOO_MANY])).toThrow(OutOfMemoryError);
    // exactly 4 GiB wraps to malloc(0) in wasm32: refused too
    expect(() => tf.tile(one, [WASM_HEAP_LIMIT_BYTES / 4])).toThrow(OutOfMemoryError);
    one.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(live.dataSync()).every((v) => v === 7)).toBe(true);
    const next = tf.add(live, 1); // the backend keeps working
    expect(Array.from(next.dataSync()).every((v) => v === 8)).toBe(true);
    tf.dispose([live, next]);
  });

  test('native kernels scratch: a request the heap cannot hold throws OutOfMemoryError, then scratch still works', () => {
    if (nativeUnavailableReason()) return; // the native kernels are not built for this tfjs version
    const nk = nativeFor(tf.backend());
    const live = tf.fill([1024], 3);
    let err: unknown;
    try {
      nk.scratch(FLOATS_TOO_MANY);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).message).toContain('native kernels scratch');
    expect(() => nk.scratch(WASM_HEAP_LIMIT_BYTES / 4)).toThrow(OutOfMemoryError); // 4 GiB: would wrap to 0 bytes
    const p = nk.scratch(1000);
    expect(p).toBeGreaterThan(0);
    expect(Array.from(live.dataSync()).every((v) => v === 3)).toBe(true);
    live.dispose();
  });
});
