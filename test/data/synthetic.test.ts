import * as fs from 'fs';
import * as path from 'path';
import { generateSynthetic, loadMovieLens, prepareData, detectRelease } from '../../lib/data';
import { tmpDir } from './fixtures';

test('ml-1m style: real format, exact sizes, latin-1 titles, deterministic', () => {
  const root = tmpDir();
  const a = generateSynthetic({
    dir: path.join(root, 'a'),
    format: 'ml-1m',
    numRatings: 5000,
    numUsers: 50,
    numMovies: 300,
    seed: 3,
  });
  const b = generateSynthetic({
    dir: path.join(root, 'b'),
    format: 'ml-1m',
    numRatings: 5000,
    numUsers: 50,
    numMovies: 300,
    seed: 3,
  });
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
  const c = generateSynthetic({
    dir: path.join(root, 'c'),
    format: 'ml-1m',
    numRatings: 5000,
    numUsers: 50,
    numMovies: 300,
    seed: 4,
  });
  expect(
    fs.readFileSync(path.join(c.dir, 'ratings.dat')).equals(fs.readFileSync(path.join(a.dir, 'ratings.dat'))),
  ).toBe(false);
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
  const xs: number[] = [],
    ys: number[] = [];
  for (let i = 0; i < s.n; i++) {
    let sum = 0,
      c = 0;
    for (let j = 0; j < 5; j++)
      if (s.itemSeq[i * 6 + j] !== 0) {
        sum += s.ratingSeq[i * 6 + j];
        c++;
      }
    if (c === 5) {
      xs.push(sum / 5);
      ys.push(s.rating[i]);
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const mx = mean(xs),
    my = mean(ys);
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.2);
  // ratings use the whole scale
  expect(new Set(ys).size).toBe(5);
});

test('planted rule: a share of users rate A then B next, B rated as A; A and B appear nowhere else', () => {
  const root = tmpDir();
  const opts = { format: 'ml-1m' as const, numRatings: 4000, numUsers: 200, numMovies: 60, seed: 5 };
  const r = generateSynthetic({
    ...opts,
    dir: path.join(root, 'p'),
    plantedRule: { ifMovie: 7, thenMovie: 2, share: 0.6 },
  });
  const p = prepareData({ dataset: loadMovieLens({ dir: r.dir }), seqLen: 4, k: 1 });
  const it = p.interactions;
  const a = p.vocabs.item.index(7);
  const b = p.vocabs.item.index(2);
  let pairs = 0,
    high = 0,
    aAlone = 0,
    bAlone = 0;
  for (let q = 0; q < it.item.length; q++) {
    if (it.item[q] === a) {
      // B comes next (B = movie 2 < A = movie 7: a same-second tie would have put B first)
      if (it.item[q + 1] === b && it.user[q + 1] === it.user[q]) {
        pairs++;
        expect(it.rating[q + 1]).toBe(it.rating[q]);
        expect([1, 5]).toContain(it.rating[q]);
        expect(it.timestamp[q + 1]).toBeGreaterThan(it.timestamp[q]);
        if (it.rating[q] === 5) high++;
      } else aAlone++;
    }
    if (it.item[q] === b && !(q > 0 && it.item[q - 1] === a && it.user[q - 1] === it.user[q])) bAlone++;
  }
  expect(aAlone + bAlone).toBe(0);
  expect(pairs / 200).toBeGreaterThan(0.5);
  expect(pairs / 200).toBeLessThan(0.7);
  expect(high / pairs).toBeGreaterThan(0.3);
  expect(high / pairs).toBeLessThan(0.7);
  expect(() =>
    generateSynthetic({ ...opts, dir: path.join(root, 'x'), plantedRule: { ifMovie: 7, thenMovie: 7 } }),
  ).toThrow(/must differ, both are 7/);
  expect(() =>
    generateSynthetic({ ...opts, dir: path.join(root, 'y'), plantedRule: { ifMovie: 61, thenMovie: 2 } }),
  ).toThrow(/ifMovie must be a movie id in 1..60, got 61/);
});

test('without a planted rule the output is unchanged by the option existing (same bytes as plantedRule undefined)', () => {
  const root = tmpDir();
  const opts = { format: 'ml-1m' as const, numRatings: 3000, numUsers: 40, numMovies: 400, seed: 8 };
  const a = generateSynthetic({ ...opts, dir: path.join(root, 'a') });
  const b = generateSynthetic({ ...opts, dir: path.join(root, 'b'), plantedRule: undefined });
  const c = generateSynthetic({ ...opts, dir: path.join(root, 'c'), plantedRule: { ifMovie: 1, thenMovie: 2 } });
  const read = (d: string) => fs.readFileSync(path.join(d, 'ratings.dat'));
  expect(read(a.dir).equals(read(b.dir))).toBe(true);
  expect(read(a.dir).equals(read(c.dir))).toBe(false);
});

test('planted echo: in time order a share of ratings repeat the one lag steps back; movies and times are unchanged', () => {
  const root = tmpDir();
  const opts = { format: 'ml-1m' as const, numRatings: 20000, numUsers: 100, numMovies: 800, seed: 4 };
  const plain = generateSynthetic({ ...opts, dir: path.join(root, 'plain') });
  const echoed = generateSynthetic({ ...opts, dir: path.join(root, 'echo'), echo: { probability: 0.5, lag: 3 } });
  const all = generateSynthetic({ ...opts, dir: path.join(root, 'all'), echo: { probability: 1, lag: 2 } });
  const it = (dir: string) => prepareData({ dataset: loadMovieLens({ dir }), seqLen: 4, k: 1 }).interactions;
  /** share of ratings (from position lag on, per user in time order) equal to the rating lag steps back */
  const repeats = (x: ReturnType<typeof it>, lag: number) => {
    let same = 0,
      n = 0;
    for (let q = lag; q < x.rating.length; q++) {
      if (x.user[q - lag] !== x.user[q]) continue;
      n++;
      if (x.rating[q] === x.rating[q - lag]) same++;
    }
    return same / n;
  };
  const p = it(plain.dir);
  const e = it(echoed.dir);
  expect(Array.from(e.item)).toEqual(Array.from(p.item));
  expect(Array.from(e.timestamp)).toEqual(Array.from(p.timestamp));
  const base = repeats(p, 3);
  // chance agreement + half of the rest: base + 0.5 * (1 - base), within sampling noise
  expect(repeats(e, 3)).toBeGreaterThan(base + 0.5 * (1 - base) - 0.02);
  expect(repeats(e, 3)).toBeLessThan(base + 0.5 * (1 - base) + 0.02);
  expect(repeats(e, 2)).toBeLessThan(repeats(e, 3) - 0.1); // the signal sits at lag 3, not next to it
  expect(repeats(it(all.dir), 2)).toBe(1);
  expect(() => generateSynthetic({ ...opts, dir: path.join(root, 'x'), echo: { probability: 1.5 } })).toThrow(
    /echo.probability must be in \[0, 1\], got 1.5/,
  );
  expect(() => generateSynthetic({ ...opts, dir: path.join(root, 'y'), echo: { probability: 0.5, lag: 0 } })).toThrow(
    /echo.lag must be an integer >= 1, got 0/,
  );
});
