/** Small hand-built Interactions / SplitIndex fixtures for the eval tests (no dependency on lib/data loaders). */
import type { Interactions, SplitIndex } from '../../lib/data/types';
import { Rng } from '../../lib/util/rng';

/** A rating row: [user, item, rating, timestamp, split]. */
export type Row = [number, number, number, number, 'train' | 'val' | 'test'];

/** Interactions sorted by (user, time, item) plus the split named on each row. numUsers = max user + 1. */
export function makeData(rows: Row[]): { interactions: Interactions; split: SplitIndex } {
  const sorted = rows.slice().sort((a, b) => a[0] - b[0] || a[3] - b[3] || a[1] - b[1]);
  const numUsers = Math.max(...rows.map((r) => r[0])) + 1;
  const userOffsets = new Int32Array(numUsers + 1);
  for (const r of sorted) userOffsets[r[0] + 1]++;
  for (let u = 1; u <= numUsers; u++) userOffsets[u] += userOffsets[u - 1];
  const pos = (s: Row[4]) => Int32Array.from(sorted.map((r, p) => (r[4] === s ? p : -1)).filter((p) => p >= 0));
  return {
    interactions: {
      userOffsets,
      user: Int32Array.from(sorted.map((r) => r[0])),
      item: Int32Array.from(sorted.map((r) => r[1])),
      rating: Float32Array.from(sorted.map((r) => r[2])),
      timestamp: Float64Array.from(sorted.map((r) => r[3])),
    },
    split: { protocol: 'leave-last-k', train: pos('train'), val: pos('val'), test: pos('test') },
  };
}

/**
 * Seeded synthetic ratings with a rank-1 interaction: r = clip(round(3 + bu + bi + 1.5 a_u b_i + noise), 1, 5),
 * each user rating `perUser` distinct items; per user the last `k` by time are test, the `k` before val.
 */
export function syntheticData(opts: { numUsers: number; numItems: number; perUser: number; k: number; seed: number }) {
  const { numUsers, numItems, perUser, k, seed } = opts;
  const rng = new Rng(seed);
  const a = Array.from({ length: numUsers + 1 }, () => (rng.next() < 0.5 ? -1 : 1));
  const b = Array.from({ length: numItems + 1 }, () => (rng.next() < 0.5 ? -1 : 1));
  const bu = Array.from({ length: numUsers + 1 }, () => rng.normal() * 0.3);
  const bi = Array.from({ length: numItems + 1 }, () => rng.normal() * 0.3);
  const rows: Row[] = [];
  for (let u = 1; u <= numUsers; u++) {
    const items = rng.shuffle(Array.from({ length: numItems }, (_, j) => j + 1)).slice(0, perUser);
    items.forEach((i, t) => {
      const x = 3 + bu[u] + bi[i] + 1.5 * a[u] * b[i] + rng.normal() * 0.2;
      const split = t >= perUser - k ? 'test' : t >= perUser - 2 * k ? 'val' : 'train';
      rows.push([u, i, Math.min(5, Math.max(1, Math.round(x))), 1000 + t, split]);
    });
  }
  return makeData(rows);
}
