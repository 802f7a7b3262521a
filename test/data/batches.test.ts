import { loadMovieLens, prepareData, iterateBatches, gatherSamples, Samples } from '../../lib/data';
import { blockShuffle } from '../../lib/data/samples'; // not yet re-exported by lib/data/index.ts
import { Rng } from '../../lib/util/rng';
import { ConfigError } from '../../lib/util/errors';
import { tmpDir, writeFiles, ml1mForCounts } from './fixtures';

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('blockShuffle', () => {
  test('a seeded permutation; equals one Fisher-Yates shuffle while the positions fit one window', () => {
    const pos = range(5000).map((x) => x * 3 + 1);
    const a = blockShuffle(pos, { seed: 4, block: 16, window: 1024 });
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from(pos));
    expect(Array.from(blockShuffle(pos, { seed: 4, block: 16, window: 1024 }))).toEqual(Array.from(a));
    expect(Array.from(blockShuffle(pos, { seed: 5, block: 16, window: 1024 }))).not.toEqual(Array.from(a));
    expect(Array.from(pos.subarray(0, 5))).toEqual([1, 4, 7, 10, 13]); // input untouched
    const full = Array.from(new Rng(4).shuffle(pos.slice()));
    expect(Array.from(blockShuffle(pos, { seed: 4, block: 16, window: 5000 }))).toEqual(full);
    expect(Array.from(blockShuffle(pos, { seed: 4 }))).toEqual(full); // default window 16384 > 5000
    expect(Array.from(a)).not.toEqual(full);
  });

  test('each window holds whole blocks (cache locality), and the order is well mixed', () => {
    const n = 100_000,
      block = 16,
      window = 4096;
    const a = blockShuffle(range(n), { seed: 1, block, window });
    // window 0 = window/block whole blocks: every block seen there is complete
    const seen = new Map<number, number>();
    for (const x of a.subarray(0, window)) seen.set(Math.floor(x / block), (seen.get(Math.floor(x / block)) ?? 0) + 1);
    expect(seen.size).toBe(window / block);
    for (const c of seen.values()) expect(c).toBe(block);
    // inside a window the order is shuffled: a batch of 256 touches many blocks
    const firstBatch = new Set(Array.from(a.subarray(0, 256), (x) => Math.floor(x / block)));
    expect(firstBatch.size).toBeGreaterThan(150);
    // blocks are spread over the whole range: no correlation between output index and value
    let sx = 0,
      sy = 0,
      sxx = 0,
      syy = 0,
      sxy = 0;
    for (let i = 0; i < n; i++) {
      const y = a[i];
      sx += i;
      sy += y;
      sxx += i * i;
      syy += y * y;
      sxy += i * y;
    }
    const r = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    expect(Math.abs(r)).toBeLessThan(0.05);
    // a sorted order (no shuffle) has r = 1: the check can fail
  });

  test('bad block or window sizes are named', () => {
    expect(() => blockShuffle(range(10), { seed: 1, block: 0 })).toThrow(ConfigError);
    expect(() => blockShuffle(range(10), { seed: 1, window: 1.5 })).toThrow(/shuffleWindow/);
  });
});

describe('batches', () => {
  const dir = writeFiles(tmpDir(), ml1mForCounts([5, 8, 13, 2, 21, 30, 1, 17]), 'latin1');
  const p = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 6, k: 2 });
  const base = { interactions: p.interactions, features: p.features, sizes: p.sizes, seqLen: p.seqLen };
  const flat = (bs: Samples[]) => {
    const keys = [
      'userIdx',
      'itemSeq',
      'ratingSeq',
      'timeDelta',
      'genres',
      'yearIdx',
      'gender',
      'age',
      'occupation',
      'zip',
      'rating',
      'liked',
    ] as const;
    return Object.fromEntries(keys.map((k) => [k, bs.flatMap((b) => Array.from(b[k] as ArrayLike<number>))]));
  };

  test('shuffled batches are the samples of blockShuffle(positions) in that order', () => {
    const train = p.positions('train');
    const opts = { batchSize: 7, shuffle: true, seed: 3, shuffleBlock: 4, shuffleWindow: 16 };
    const got = flat([...p.batches('train', opts)]);
    const want = flat([p.gather(blockShuffle(train, { seed: 3, block: 4, window: 16 }))]);
    expect(got).toEqual(want);
    expect(new Set(got.itemSeq.filter((_, i) => i % 6 === 5)).size).toBeGreaterThan(1);
  });

  test('reuseBuffers: same samples, one buffer for full batches, stale history cleared', () => {
    // long histories first, then targets near run starts (padding) into the same buffer
    const offs = p.interactions.userOffsets;
    const late: number[] = [],
      early: number[] = [];
    for (let u = 1; u + 1 < offs.length; u++) {
      if (offs[u + 1] - offs[u] >= 6) late.push(offs[u + 1] - 1);
      if (offs[u + 1] > offs[u]) early.push(offs[u]);
    }
    const positions = Int32Array.from([...late.slice(0, 3), ...early.slice(0, 3), ...late.slice(3, 4)]);
    const fresh = [...iterateBatches(base, positions, { batchSize: 3 })];
    const copies: Samples[] = [];
    const objects = new Set<Samples>();
    for (const b of iterateBatches(base, positions, { batchSize: 3, reuseBuffers: true })) {
      objects.add(b);
      copies.push(p.gather(Array.from(positions.subarray(copies.length * 3, copies.length * 3 + b.n)))); // reference
      expect(flat([b])).toEqual(flat([copies[copies.length - 1]]));
    }
    expect(flat(copies)).toEqual(flat(fresh));
    expect(objects.size).toBe(2); // two full batches share one object; the partial last batch is its own
    // the second batch (run starts) is all padding but the target slot
    expect(
      flat([fresh[1]])
        .itemSeq.filter((_, i) => i % 6 !== 5)
        .every((x) => x === 0),
    ).toBe(true);
  });

  test('batches equal gather also with a non-binary genre table (the unpacked fallback)', () => {
    const itemGenres = p.features.itemGenres.map((v, i) => (i % 3 === 0 ? 0.5 : v));
    const features = { ...p.features, itemGenres };
    const positions = p.positions('train');
    const got = flat([...iterateBatches({ ...base, features }, positions, { batchSize: 5 })]);
    const want = flat([gatherSamples({ ...base, features, positions })]);
    expect(got).toEqual(want);
    expect(got.genres).toContain(0.5);
  });
});

describe('prepareData item vocabulary', () => {
  test('sorted distinct movies of training ratings only (val/test movies stay unknown)', () => {
    // users with 5, 13 and 7 ratings of movies 1..n; k=2 keeps the last 4 of each user out of training
    const dir = writeFiles(tmpDir(), ml1mForCounts([5, 13, 7]), 'latin1');
    const p = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 4, k: 2 });
    expect(p.vocabs.item.values).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(p.vocabs.item.index(10)).toBe(0);
  });
});
