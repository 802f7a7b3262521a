import * as fs from 'fs';
import * as path from 'path';
import { generateSynthetic, loadMovieLens, prepareData, detectRelease } from '../../lib/data';
import { tmpDir } from './fixtures';

test('ml-1m style: real format, exact sizes, latin-1 titles, deterministic', () => {
  const root = tmpDir();
  const a = generateSynthetic({ dir: path.join(root, 'a'), format: 'ml-1m', numRatings: 5000, numUsers: 50, numMovies: 300, seed: 3 });
  const b = generateSynthetic({ dir: path.join(root, 'b'), format: 'ml-1m', numRatings: 5000, numUsers: 50, numMovies: 300, seed: 3 });
  expect(detectRelease(a.dir)).toBe('ml-1m');
  for (const f of ['ratings.dat', 'movies.dat', 'users.dat']) {
    expect(fs.readFileSync(path.join(a.dir, f)).equals(fs.readFileSync(path.join(b.dir, f)))).toBe(true);
  }
  const ds = loadMovieLens({ dir: a.dir });
  expect(ds.ratings.numRows()).toBe(5000);
  expect(ds.users!.numRows()).toBe(50);
  expect(ds.movies.numRows()).toBe(300);
  expect(ds.report.duplicates.count + ds.report.outOfRange.count + ds.report.unknownMovies.count).toBe(0);
  expect(ds.movies.array('title')).toContain('Café Synthétique 11 (' + ds.movies.array('year')[10] + ')');
  const c = generateSynthetic({ dir: path.join(root, 'c'), format: 'ml-1m', numRatings: 5000, numUsers: 50, numMovies: 300, seed: 4 });
  expect(fs.readFileSync(path.join(c.dir, 'ratings.dat')).equals(fs.readFileSync(path.join(a.dir, 'ratings.dat')))).toBe(false);
});

test('CSV style: header, quoted titles with commas, half stars', () => {
  const r = generateSynthetic({ dir: path.join(tmpDir(), 'ml-25m'), format: 'csv', numRatings: 3000, seed: 1 });
  const ds = loadMovieLens({ dir: r.dir });
  expect(ds.release).toBe('ml-25m');
  expect(ds.ratings.numRows()).toBe(3000);
  expect(fs.readFileSync(path.join(r.dir, 'movies.csv'), 'utf8')).toContain('"Movie 7, The (');
  expect(ds.movies.array('title')).toContain(`Movie 7, The (${ds.movies.array('year')[6]})`);
  const ratings = Array.from(ds.ratings.array('rating') as ArrayLike<number>);
  expect(ratings.some((x) => x % 1 === 0.5)).toBe(true);
  expect(Math.min(...ratings)).toBeGreaterThanOrEqual(0.5);
});

test('structure a sequence model can learn: ratings follow recent history and taste', () => {
  const r = generateSynthetic({ dir: path.join(tmpDir(), 's'), format: 'ml-1m', numRatings: 40000, seed: 2 });
  const p = prepareData({ dataset: loadMovieLens({ dir: r.dir }), seqLen: 6, k: 1 });
  const s = p.gather(p.split.train);
  // correlation between the mean of the 5 previous ratings and the target rating
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < s.n; i++) {
    let sum = 0, c = 0;
    for (let j = 0; j < 5; j++) if (s.itemSeq[i * 6 + j] !== 0) { sum += s.ratingSeq[i * 6 + j]; c++; }
    if (c === 5) { xs.push(sum / 5); ys.push(s.rating[i]); }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const mx = mean(xs), my = mean(ys);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
  expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.2);
  // ratings use the whole scale
  expect(new Set(ys).size).toBe(5);
});
