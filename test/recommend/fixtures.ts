/** A tiny hand-written ml-1m-format release for the recommendation tests (4 users, 9 movies). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Dataset, loadMovieLens, prepareData, PreparedData } from '../../lib/data/index';

export const MOVIES = [
  '10::Heat (1995)::Action|Crime|Thriller',
  '20::Ronin (1998)::Action|Crime|Thriller',
  "30::Toy Story (1995)::Animation|Children's|Comedy",
  "40::Babe (1995)::Children's|Comedy|Drama",
  '50::Casablanca (1942)::Drama|Romance|War',
  '60::Alien (1979)::Horror|Sci-Fi',
  '70::Fargo (1996)::Crime|Drama|Thriller',
  '80::Clueless (1995)::Comedy|Romance',
  '90::Rare Film (2000)::Documentary',
];

/** user -> [movieId, rating] in time order; leave-last-1: the last is test, the one before val. */
export const HISTORIES: Record<number, Array<[number, number]>> = {
  1: [
    [10, 5],
    [20, 4],
    [70, 4],
    [60, 3],
    [50, 2],
    [30, 4],
  ],
  2: [
    [30, 5],
    [40, 4],
    [80, 3],
    [10, 2],
    [90, 1],
    [20, 5],
  ],
  3: [
    [50, 5],
    [70, 4],
    [10, 3],
    [40, 2],
    [60, 4],
    [80, 3],
  ],
  4: [
    [60, 4],
    [20, 3],
    [30, 2],
    [90, 5],
    [70, 4],
    [40, 3],
  ],
};

/** Write the release into a temp folder and load it. */
export function tinyDataset(): Dataset {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-rec-'));
  const ratings: string[] = [];
  for (const [u, h] of Object.entries(HISTORIES))
    h.forEach(([m, r], t) => ratings.push(`${u}::${m}::${r}::${1000 + 100 * Number(u) + t}`));
  const users = Object.keys(HISTORIES).map((u) => `${u}::F::25::${u}::1234${u}`);
  fs.writeFileSync(path.join(dir, 'movies.dat'), MOVIES.join('\n') + '\n', 'latin1');
  fs.writeFileSync(path.join(dir, 'users.dat'), users.join('\n') + '\n', 'latin1');
  fs.writeFileSync(path.join(dir, 'ratings.dat'), ratings.join('\n') + '\n', 'latin1');
  return loadMovieLens({ dir });
}

/** The tiny release prepared with leave-last-1 and L = seqLen. */
export function tinyData(seqLen = 5): { dataset: Dataset; data: PreparedData } {
  const dataset = tinyDataset();
  return { dataset, data: prepareData({ dataset, seqLen, k: 1 }) };
}
