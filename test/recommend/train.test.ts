import { mixSeed } from '../../lib/eval/index';
import { likeBatches, trainItemsByUser, trainRecommender } from '../../lib/recommend/index';
import { tinyConfig, useCpu } from '../model/helpers';
import { tinyData } from './fixtures';

beforeAll(useCpu);

describe('like-head batches with sampled negatives', () => {
  const { data } = tinyData(5);
  const it = data.interactions;
  const exclude = trainItemsByUser(data);

  test('each target: the positive (liked 1) then m unrated negatives (liked 0) sharing its history', () => {
    const positions = data.positions('train');
    const batches = [...likeBatches(data, { positions, negatives: 2, positivesPerBatch: 4, seed: 3 })];
    const all = batches.flatMap((b) => Array.from({ length: b.n }, (_, i) => ({ b, i })));
    expect(all.length).toBe(positions.length * 3);
    expect(batches[0].n).toBe(12);
    const L = data.seqLen;
    for (let t = 0; t < positions.length; t++) {
      const p = positions[t];
      const u = it.user[p];
      const rows = all.slice(3 * t, 3 * t + 3);
      const [pos, ...negs] = rows;
      expect(pos.b.liked[pos.i]).toBe(1);
      expect(pos.b.rating[pos.i]).toBe(it.rating[p]);
      expect(pos.b.itemSeq[pos.i * L + L - 1]).toBe(it.item[p]);
      for (const n of negs) {
        expect(n.b.liked[n.i]).toBe(0);
        const target = n.b.itemSeq[n.i * L + L - 1];
        expect(target).not.toBe(it.item[p]);
        expect(Array.from(exclude[u])).not.toContain(target);
        // same history as the positive
        expect(Array.from(n.b.itemSeq.subarray(n.i * L, n.i * L + L - 1))).toEqual(
          Array.from(pos.b.itemSeq.subarray(pos.i * L, pos.i * L + L - 1)),
        );
      }
    }
  });

  test('seeded: same seed same negatives, whatever the batch size; another seed differs', () => {
    const positions = data.positions('train');
    const flat = (bs: number, seed: number) =>
      [...likeBatches(data, { positions, negatives: 2, positivesPerBatch: bs, seed })].flatMap((b) =>
        Array.from(b.itemSeq),
      );
    expect(flat(1, 5)).toEqual(flat(7, 5));
    const seeds = [5, 6, 7, 8].map((s) => JSON.stringify(flat(7, mixSeed(s, 1))));
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  test('a user who rated nearly the whole catalogue gets the unrated movies there are, not an error', () => {
    // 9 movies, 4 users with 6 ratings each: asking for 8 negatives leaves at most 3 unrated per target
    const positions = data.positions('train');
    const numItems = data.sizes.numItems;
    const rows = [...likeBatches(data, { positions, negatives: 8, positivesPerBatch: 1, seed: 1 })];
    expect(rows.length).toBe(positions.length);
    rows.forEach((b, t) => {
      const p = positions[t];
      const banned = new Set([...Array.from(exclude[it.user[p]]), it.item[p], 0]);
      const negs = Array.from(b.itemSeq.filter((_, k) => k % data.seqLen === data.seqLen - 1)).slice(1);
      expect(negs.length).toBe(Math.min(8, numItems - banned.size));
      expect(negs.length).toBeLessThan(8);
      expect(new Set(negs).size).toBe(negs.length);
      for (const i of negs) expect(banned.has(i)).toBe(false);
    });
  });
});

describe('trainRecommender', () => {
  test('trains the like head with sampled negatives and the rating head, through lib/model train()', async () => {
    const { data } = tinyData(5);
    const like = await trainRecommender({
      data,
      config: tinyConfig({ task: 'like', epochs: 2 }),
      negatives: 2,
      log: null,
    });
    expect(like.model.config.task).toBe('like');
    expect(like.training.history.length).toBe(2);
    expect(like.training.history[0].samples).toBe(data.positions('train').length * 3);
    expect(like.training.history[0].val.auc).toBeDefined();
    const rating = await trainRecommender({
      data,
      config: tinyConfig({ task: 'rating', epochs: 1 }),
      log: null,
      maxUsers: 2,
    });
    expect(rating.training.history[0].samples).toBe(
      data.positions('train').filter((p) => data.interactions.user[p] <= 2).length,
    );
  });
});
