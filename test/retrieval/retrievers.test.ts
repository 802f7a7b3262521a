/** Retriever adapters (lib/retrieval/retrievers): the batched two-tower path reads each history's user features. */
import * as tf from '@tensorflow/tfjs';
import {
  createTwoTower,
  disposeTwoTower,
  retrievalFeatures,
  retrieveMany,
  twoTowerConfig,
  twoTowerRetriever,
} from '../../lib/retrieval';
import { useCpu } from '../model/helpers';

beforeAll(useCpu);

const table = (cols: Record<string, unknown[]>) => ({
  array: (n: string) => cols[n],
  numRows: () => (Object.values(cols)[0] ?? []).length,
});

test('retrieveMany gives the two-tower retriever each history its user: the same lists as retrieve(h, m, ex, user)', () => {
  const N = 30;
  const movies = Array.from({ length: N }, (_, i) => 10 + i);
  const features = retrievalFeatures(
    {
      movies: table({
        movieId: movies,
        year: movies.map((m) => 1970 + (m % 9)),
        genres: movies.map((m) => ['Action', 'Comedy|Drama', 'Drama', 'Horror|Sci-Fi'][m % 4]),
      }),
      users: table({
        userId: [1, 2, 3, 4],
        gender: ['M', 'F', 'F', 'M'],
        age: [18, 56, 25, 45],
        occupation: ['writer', 'artist', 'lawyer', 'doctor'],
      }),
    },
    Int32Array.from([-1, ...movies]),
  );
  const model = createTwoTower(
    twoTowerConfig({ maxLen: 5, dim: 8, vectorDim: 6, heads: 2, userFeatureDim: 4, seed: 3 }),
    features,
  );
  // move the user-feature weights off their small initialisation so that users visibly change the lists
  model.vars.forEach((v, i) => v.assign(tf.tidy(() => tf.add(tf.mul(v, 4), 0.05 * ((i % 3) - 1)))));
  expect(model.useUsers).toBe(true);
  const r = twoTowerRetriever(model);
  const histories = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [3]].map((h) => Int32Array.from(h));
  const users = [1, 2, 3, 4];
  const batched = retrieveMany(r, histories, 8, histories, users).map((l) => Array.from(l));
  const single = histories.map((h, i) => Array.from(r.retrieve(h, 8, h, users[i])));
  expect(batched).toEqual(single);
  const anonymous = retrieveMany(r, histories, 8, histories).map((l) => Array.from(l));
  expect(anonymous).toEqual(histories.map((h) => Array.from(r.retrieve(h, 8, h))));
  expect(anonymous).not.toEqual(batched); // the user features matter, so dropping them would show
  expect(() => retrieveMany(r, histories, 8, histories, [1, 2])).toThrow(/4 histories but 2 user ids/);
  disposeTwoTower(model);
});
