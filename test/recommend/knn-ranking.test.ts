/** Item-KNN as a ranking baseline (notebook 06) on real ml-100k: fitted on training targets only, better than chance. */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, prepareData } from '../../lib/data';
import {
  evaluateRecommender,
  itemKnnRankingScorer,
  popularityRankingScorer,
  trainSequences,
} from '../../lib/recommend';

const DATA = process.env.BST_DATA_DIR ?? path.resolve(__dirname, '../../../shared/data');
const ML100K = path.join(DATA, 'ml-100k');
const real = fs.existsSync(path.join(ML100K, 'u.data')) ? test : test.skip;

real('item-KNN ranks held-out movies far above chance, from training targets only', () => {
  const data = prepareData({ dataset: loadMovieLens({ dir: ML100K }), seqLen: 10, k: 1, verbose: false });
  const seqs = trainSequences(data);
  const total = seqs.items.reduce((a, s) => a + s.length, 0);
  expect(total).toBe(data.split.train.length); // only training targets feed the similarities
  const knn = evaluateRecommender({ data, scorer: itemKnnRankingScorer(data), mode: 'sampled', k: 10, maxUsers: 300 });
  const pop = evaluateRecommender({
    data,
    scorer: popularityRankingScorer(data),
    mode: 'sampled',
    k: 10,
    maxUsers: 300,
  });
  console.info(`HR@10 (100 neg., 300 users): item-KNN ${knn.hitRate.toFixed(3)}, popularity ${pop.hitRate.toFixed(3)}`);
  expect(knn.n).toBe(300);
  expect(knn.hitRate).toBeGreaterThan(3 * (10 / 101)); // chance is 10 of 101
  expect(knn.hitRate).not.toBe(pop.hitRate);
  expect(() => itemKnnRankingScorer(data, { lastItems: 0 })).toThrow(/lastItems must be an integer >= 1, got 0/);
});
