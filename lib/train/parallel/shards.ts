/** Splitting a batch into contiguous shards for data-parallel training (pure functions, no tensors). */
import { Samples } from '../../data/types';
import { ConfigError } from '../../util/errors';

/**
 * Sizes of `parts` contiguous shards of `n` samples, as equal as possible (the first n % parts shards get one
 * more); shards that would be empty (n < parts) are left out, so every returned size is >= 1.
 */
export function shardSizes(n: number, parts: number): number[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new ConfigError(`shardSizes: n must be an integer >= 0, got ${n}`);
  if (!(Number.isInteger(parts) && parts >= 1))
    throw new ConfigError(`shardSizes: parts must be an integer >= 1, got ${parts}`);
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const out: number[] = [];
  for (let k = 0; k < parts; k++) {
    const size = base + (k < extra ? 1 : 0);
    if (size > 0) out.push(size);
  }
  return out;
}

/**
 * Rows [start, end) of a batch as a new Samples with its own buffers (so they can be transferred). Every
 * typed-array field is sliced by its per-row width (length / n), so fields added to Samples later follow.
 */
export function sliceRows(s: Samples, start: number, end: number): Samples {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= s.n)) {
    throw new ConfigError(`sliceRows: rows [${start}, ${end}) outside a batch of ${s.n}`);
  }
  const out: Record<string, unknown> = { ...s, n: end - start };
  for (const [key, v] of Object.entries(s)) {
    if (!ArrayBuffer.isView(v)) continue;
    const arr = v as unknown as Float32Array; // any typed array: slice() keeps its type
    const width = s.n > 0 ? arr.length / s.n : 0;
    out[key] = arr.slice(start * width, end * width);
  }
  return out as unknown as Samples;
}

/** The ArrayBuffers of a Samples (for postMessage's transfer list). */
export function samplesBuffers(s: Samples): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(s)) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
  return out;
}
