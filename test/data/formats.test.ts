import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, loadSummary, detectRelease, genreList, parseYear, parseRatingsFile } from '../../lib/data';
import { DataError } from '../../lib/util/errors';
import { tmpDir, writeFiles, ML100K_FILES, ML1M_FILES, ML10M_FILES, CSV_FILES } from './fixtures';

const COLS = { ratings: ['userId', 'movieId', 'rating', 'timestamp'], movies: ['movieId', 'title', 'year', 'genres'] };

describe('loaders of every release format', () => {
  test('ml-100k: tab ratings, | items with genre flags, latin-1 titles, ages bucketed', () => {
    const dir = writeFiles(path.join(tmpDir(), 'ml-100k'), ML100K_FILES, 'latin1');
    expect(detectRelease(dir)).toBe('ml-100k');
    const ds = loadMovieLens({ dir });
    expect(ds.release).toBe('ml-100k');
    expect(ds.ratings.columnNames()).toEqual(COLS.ratings);
    expect(ds.movies.columnNames()).toEqual(COLS.movies);
    expect(ds.movies.array('title')).toEqual(['Tiny Film (1994)', 'Amélie Tiny (2001)', 'No Year Film']);
    expect(ds.movies.array('genres')).toEqual(['Action', 'Comedy|Drama', 'unknown']);
    // no year in the title: falls back to the release date
    expect(Array.from(ds.movies.array('year'))).toEqual([1994, 2001, 1990]);
    expect(ds.users!.objects()).toEqual([
      { userId: 1, gender: 'M', age: 1, occupation: 'student', zip: '55105' },
      { userId: 2, gender: 'F', age: 25, occupation: 'writer', zip: 'T8H1N' },
    ]);
    expect(ds.ratings.numRows()).toBe(4);
  });

  test('ml-1m: :: separators, latin-1 titles kept whole with the year parsed, demographics', () => {
    const dir = writeFiles(path.join(tmpDir(), 'anything'), ML1M_FILES, 'latin1');
    expect(detectRelease(dir)).toBe('ml-1m');
    const ds = loadMovieLens({ dir });
    expect(ds.movies.objects()[0]).toEqual({
      movieId: 10,
      title: 'Café Society (1995)',
      year: 1995,
      genres: 'Comedy|Drama',
    });
    expect(ds.movies.objects()[2]).toEqual({ movieId: 30, title: 'Untitled', year: 0, genres: 'Drama' });
    expect(ds.users!.objects()[1]).toEqual({ userId: 8, gender: 'M', age: 56, occupation: 'other', zip: 'K1A0B' });
    expect(ds.ratings.objects()[0]).toEqual({ userId: 7, movieId: 20, rating: 4, timestamp: 978300760 });
  });

  test('ml-10m: :: separators, half stars, no users', () => {
    const dir = writeFiles(path.join(tmpDir(), 'x'), ML10M_FILES, 'utf8');
    expect(detectRelease(dir)).toBe('ml-10m');
    const ds = loadMovieLens({ dir });
    expect(ds.users).toBeUndefined();
    expect(Array.from(ds.ratings.array('rating'))).toEqual([3.5, 4.5, 0.5]);
    expect(ds.movies.array('genres')).toEqual(['Drama', 'Comedy|Romance']);
  });

  test('CSV releases: header, quoted titles with commas and quotes, CRLF, half stars, no genres', () => {
    const dir = writeFiles(path.join(tmpDir(), 'ml-latest-small'), CSV_FILES, 'utf8');
    expect(detectRelease(dir)).toBe('ml-latest-small');
    const ds = loadMovieLens({ dir });
    expect(ds.ratings.columnNames()).toEqual(COLS.ratings);
    expect(ds.movies.objects()).toEqual([
      { movieId: 1, title: 'Good, the Bad and the Tiny, The (1966)', year: 1966, genres: 'Western' },
      { movieId: 2, title: 'Quote "Film" (2010)', year: 2010, genres: 'Comedy|Drama' },
      { movieId: 3, title: 'Naïve Title (2012–2013)', year: 2012, genres: '' },
    ]);
    expect(Array.from(ds.ratings.array('rating'))).toEqual([4, 2.5, 5]);
    expect(ds.users).toBeUndefined();
    // a CSV folder with another name is detected as the generic CSV format
    const other = writeFiles(path.join(tmpDir(), 'my-export'), CSV_FILES, 'utf8');
    expect(detectRelease(other)).toBe('ml-latest');
  });

  test('helpers: genreList and parseYear', () => {
    expect(genreList('A|B')).toEqual(['A', 'B']);
    expect(genreList('(no genres listed)')).toEqual([]);
    expect(parseYear('X (1999) ')).toBe(1999);
    expect(parseYear('Babylon 5')).toBe(0);
  });
});

describe('bad input', () => {
  test('a malformed ratings line names file, line number and content', () => {
    const dir = writeFiles(
      tmpDir(),
      { ...ML1M_FILES, 'ratings.dat': '7::10::5::978300700\n7::20:4::978300760\n' },
      'latin1',
    );
    let err: unknown;
    try {
      loadMovieLens({ dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${path.join(dir, 'ratings.dat')}:2`);
    expect(msg).toContain('7::20:4::978300760');
    expect((err as DataError).line).toBe(2);
  });

  test('a malformed CSV movie line and a non-numeric field are named', () => {
    const dir = writeFiles(
      tmpDir(),
      { ...CSV_FILES, 'movies.csv': 'movieId,title,genres\n1,"Open quote,Drama\n' },
      'utf8',
    );
    expect(() => loadMovieLens({ dir, release: 'ml-20m' })).toThrow(/movies\.csv:2: unterminated quoted field/);
    const dir2 = writeFiles(
      tmpDir(),
      { ...CSV_FILES, 'ratings.csv': 'userId,movieId,rating,timestamp\n1,x,4,5\n' },
      'utf8',
    );
    expect(() => loadMovieLens({ dir: dir2, release: 'ml-20m' })).toThrow(
      /ratings\.csv:2: movieId "x": is not a number.*"1,x,4,5"/,
    );
  });

  test('a missing file names the file and the release', () => {
    const dir = writeFiles(
      tmpDir(),
      { 'ratings.dat': ML1M_FILES['ratings.dat'], 'users.dat': ML1M_FILES['users.dat'] },
      'latin1',
    );
    expect(() => loadMovieLens({ dir })).toThrow(/missing file movies\.dat of release ml-1m/);
    expect(() => loadMovieLens({ dir: tmpDir() })).toThrow(DataError);
  });

  test('duplicates and unknown ids follow the documented rules, are counted and summarised in one line', () => {
    const ratings = [
      '7::10::5::100', // duplicate of the next (older): dropped
      '7::10::2::200', // kept (latest)
      '',
      '8::99::3::400', // unknown movie: kept, counted
      '9::10::4::500', // unknown user: kept, counted
    ].join('\n');
    const dir = writeFiles(tmpDir(), { ...ML1M_FILES, 'ratings.dat': ratings + '\n' }, 'latin1');
    const logged: string[] = [];
    const ds = loadMovieLens({ dir, log: (l) => logged.push(l) });
    const r = ds.report;
    expect(r.ratingsRead).toBe(4);
    expect(r.ratingsKept).toBe(3);
    expect(r.blankLines).toBe(1);
    expect(r.duplicates.count).toBe(1);
    expect(r.duplicates.examples[0]).toContain('ratings.dat:1: user 7 movie 10 rated 5 (line 2 kept)');
    expect(r.unknownMovies).toMatchObject({ count: 1, distinct: 1 });
    expect(r.unknownUsers).toMatchObject({ count: 1, distinct: 1 });
    expect(ds.ratings.objects()).toEqual([
      { userId: 7, movieId: 10, rating: 2, timestamp: 200 },
      { userId: 8, movieId: 99, rating: 3, timestamp: 400 },
      { userId: 9, movieId: 10, rating: 4, timestamp: 500 },
    ]);
    expect(logged).toEqual([loadSummary(r)]);
    expect(logged[0]).toMatch(
      /^ml-1m: 4 ratings read, 3 kept, 1 dropped \(1 duplicate .*\), 1 blank lines; unknown ids \(kept\): 1 movies in 1 ratings, 1 users in 1 ratings; 3 movies, 2 users$/,
    );
  });

  test('ratings read in many small chunks parse identically and keep correct line numbers', () => {
    const lines: string[] = ['userId,movieId,rating,timestamp'];
    for (let i = 0; i < 3000; i++) lines.push(`${1 + (i % 50)},${i + 1},${1 + (i % 9) / 2},${1e9 + i}`);
    const dir = writeFiles(tmpDir(), { 'ratings.csv': lines.join('\n') }, 'utf8');
    const file = path.join(dir, 'ratings.csv');
    const big = parseRatingsFile(file, { sep: ',', header: true });
    const small = parseRatingsFile(file, { sep: ',', header: true, chunkSize: 7 });
    expect(small.n).toBe(3000);
    expect(Array.from(small.rating)).toEqual(Array.from(big.rating));
    expect(Array.from(small.timestamp)).toEqual(Array.from(big.timestamp));
    expect(small.rating[3]).toBe(2.5);
    expect(small.line[2999]).toBe(3001);
    lines[2500] = 'broken line';
    fs.writeFileSync(file, lines.join('\n'));
    expect(() => parseRatingsFile(file, { sep: ',', header: true, chunkSize: 64 })).toThrow(
      /ratings\.csv:2501: .*"broken line"/,
    );
  });
});
