/**
 * Strict parsing of ratings files (issue 15): every value the release cannot contain throws a ParseError naming
 * file, line, field and value; a reordered CSV header is mapped by name; a file cut inside its last timestamp is
 * refused; and a property test over seeded mutations of valid files of the three real layouts (ml-100k `u.data`,
 * ml-1m `::`, ml-latest CSV) checks the loader against an independent reference reading of the rules.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, loadSummary, ReleaseName, RELEASES } from '../../lib/data';
import { DataError, ParseError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { tmpDir, writeFiles, ML100K_FILES, ML1M_FILES, CSV_FILES } from './fixtures';

/** Load `ratings` (text) as the ratings file of `release` next to that release's small movies/users fixtures. */
function loadWith(release: 'ml-100k' | 'ml-1m' | 'ml-latest', ratings: string | Buffer) {
  const base = release === 'ml-100k' ? ML100K_FILES : release === 'ml-1m' ? ML1M_FILES : CSV_FILES;
  const dir = writeFiles(path.join(tmpDir(), release), base, release === 'ml-latest' ? 'utf8' : 'latin1');
  const file = path.join(dir, RELEASES[release].ratings.name);
  fs.writeFileSync(file, ratings);
  return { file, load: () => loadMovieLens({ dir, release }) };
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('strict ratings parsing', () => {
  test('an id >= 2^31 is refused with file, line, field and value instead of wrapping onto a real user', () => {
    // 4294967303 = 2^32 + 7 wrapped to user 7 and replaced user 7's real rating of movie 10
    const { file, load } = loadWith('ml-1m', '7::10::4::978300760\n4294967303::10::1::978300999\n');
    const e = thrown(load) as ParseError;
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toMatchObject({ file, line: 2, field: 'userId', value: '4294967303' });
    expect(e.message).toContain(`${file}:2: userId "4294967303"`);
    expect(thrown(loadWith('ml-1m', '7::2147483648::4::978300760\n').load)).toMatchObject({
      field: 'movieId',
      value: '2147483648',
    });
    expect(thrown(loadWith('ml-1m', '0::10::4::978300760\n').load)).toMatchObject({ field: 'userId', value: '0' });
    // ids in the movies file too
    const dir = writeFiles(
      path.join(tmpDir(), 'ml-1m'),
      { ...ML1M_FILES, 'movies.dat': '4294967306::Wrapped (1995)::Drama\n' },
      'latin1',
    );
    expect(thrown(() => loadMovieLens({ dir }))).toMatchObject({ field: 'movieId', value: '4294967306', line: 1 });
  });

  test('a rating off the release scale is refused: 1.5 in ml-100k (whole stars), 5.5 and 0 in ml-latest', () => {
    const e = thrown(loadWith('ml-100k', '1\t1\t5\t881250949\n1\t2\t1.5\t881250950\n').load);
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toMatchObject({ line: 2, field: 'rating', value: '1.5' });
    expect(e.message).toContain('off the rating scale 1..5 in steps of 1');
    const head = 'userId,movieId,rating,timestamp\n';
    expect(thrown(loadWith('ml-latest', head + '1,1,5.5,1100000000\n').load)).toMatchObject({
      line: 2,
      field: 'rating',
      value: '5.5',
    });
    expect(thrown(loadWith('ml-latest', head + '1,1,0,1100000000\n').load)).toMatchObject({
      field: 'rating',
      value: '0',
    });
    expect(
      loadWith('ml-latest', head + '1,1,0.5,1100000000\n')
        .load()
        .ratings.objects(),
    ).toEqual([{ userId: 1, movieId: 1, rating: 0.5, timestamp: 1100000000 }]);
  });

  test('a reordered CSV header is mapped by name; a header with other names is refused showing expected vs found', () => {
    const { load } = loadWith(
      'ml-latest',
      'movieId,rating,userId,timestamp\n3,4.5,12,1100000000\n1,2.0,12,1100000500\n',
    );
    expect(load().ratings.objects()).toEqual([
      { userId: 12, movieId: 3, rating: 4.5, timestamp: 1100000000 },
      { userId: 12, movieId: 1, rating: 2, timestamp: 1100000500 },
    ]);
    const bad = loadWith('ml-latest', 'user,movie,rating,time\n12,3,4.5,1100000000\n');
    const e = thrown(bad.load);
    expect(e).toBeInstanceOf(DataError);
    expect(e).toMatchObject({ file: bad.file, line: 1 });
    expect(e.message).toContain(
      'expected userId,movieId,rating,timestamp (in any order), found user,movie,rating,time',
    );
  });

  test('a last line cut inside its timestamp is refused; a complete last line without newline is kept', () => {
    const full = '1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t3\t4\t881250951';
    expect(loadWith('ml-100k', full).load().ratings.numRows()).toBe(3);
    const { file, load } = loadWith('ml-100k', full.slice(0, -6)); // "2\t3\t4\t881"
    const e = thrown(load);
    expect(e).toBeInstanceOf(ParseError);
    expect(e).toMatchObject({ file, line: 3, field: 'timestamp', value: '881' });
    expect(e.message).toContain("has 3 digits where the file's timestamps have 9");
  });

  test('BOM, CRLF and blank lines are accepted; a large valid id does not size an array by its value', () => {
    const text = '\uFEFF1\t1\t5\t881250949\r\n\r\n2000000000\t2\t3\t881250950\r\n';
    const ds = loadWith('ml-100k', Buffer.from(text, 'utf8')).load();
    expect(ds.ratings.objects()).toEqual([
      { userId: 1, movieId: 1, rating: 5, timestamp: 881250949 },
      { userId: 2000000000, movieId: 2, rating: 3, timestamp: 881250950 },
    ]);
    expect(ds.report).toMatchObject({ ratingsRead: 2, ratingsKept: 2, blankLines: 1 });
    expect(ds.report.unknownUsers).toMatchObject({ count: 1, distinct: 1 });
    expect(loadSummary(ds.report)).toContain('ml-100k: 2 ratings read, 2 kept, 0 dropped');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property test: seeded mutations of valid files; the loader must agree with a reference reading of the rules.

type Layout = 'ml-100k' | 'ml-1m' | 'ml-latest';
interface Row {
  userId: number;
  movieId: number;
  rating: number;
  timestamp: number;
}
const COLS = ['userid', 'movieid', 'rating', 'timestamp'];
const LAYOUT: Record<Layout, { sep: string; header: boolean }> = {
  'ml-100k': { sep: '\t', header: false },
  'ml-1m': { sep: '::', header: false },
  'ml-latest': { sep: ',', header: true },
};

/** The rules, read independently of lib/data/parse.ts (string splitting and regexes): rows kept, or the first bad line. */
function reference(bytes: Buffer, layout: Layout): { rows: Row[]; duplicates: number } | { line: number } {
  const { sep, header } = LAYOUT[layout];
  const scale = RELEASES[layout as ReleaseName].ratingScale;
  let text = bytes.toString('latin1');
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  const parts = text.split('\n');
  let perm = [0, 1, 2, 3];
  let needHeader = header;
  const rows: Array<Row & { line: number }> = [];
  const digits: number[] = [];
  for (let k = 0; k < parts.length; k++) {
    const line = k + 1;
    const t = parts[k].replace(/[\r ]+$/, '');
    if (t === '') continue;
    if (needHeader) {
      const names = t.split(sep).map((s) => s.trim().toLowerCase());
      perm = names.map((nm) => COLS.indexOf(nm));
      if (names.length !== 4 || perm.some((c) => c < 0) || new Set(perm).size !== 4) return { line };
      needHeader = false;
      continue;
    }
    const f = t.split(sep);
    if (f.length !== 4) return { line };
    const v = [0, 0, 0, 0];
    let tsDigits = 0;
    for (let j = 0; j < 4; j++) {
      const c = perm[j];
      const x = f[j];
      if (c < 2) {
        if (!/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 2 ** 31 - 1) return { line };
      } else if (c === 2) {
        if (!/^-?\d+(\.\d+)?$/.test(x)) return { line };
        const r = Number(x);
        const q = (r - scale.min) / scale.step;
        if (!(r >= scale.min && r <= scale.max) || Math.abs(q - Math.round(q)) > 1e-6) return { line };
      } else {
        if (!/^\d+$/.test(x) || Number(x) > Number.MAX_SAFE_INTEGER) return { line };
        tsDigits = x.length;
      }
      v[c] = Number(x);
    }
    const unterminated = k === parts.length - 1; // text after the last '\n'
    if (unterminated && rows.length > 0) {
      const sorted = [...digits].sort((a, b) => a - b);
      if (tsDigits < sorted[Math.floor((sorted.length - 1) / 2)]) return { line };
    }
    digits.push(tsDigits);
    rows.push({ userId: v[0], movieId: v[1], rating: Math.fround(v[2]), timestamp: v[3], line });
  }
  // duplicates: the latest (timestamp, then line) of each (user, movie) pair is kept
  const best = new Map<string, number>();
  rows.forEach((r, i) => {
    const key = `${r.userId}/${r.movieId}`;
    const p = best.get(key);
    if (p === undefined || r.timestamp >= rows[p].timestamp) best.set(key, i);
  });
  const kept = new Set(best.values());
  return {
    rows: rows
      .filter((_, i) => kept.has(i))
      .map(({ userId, movieId, rating, timestamp }) => ({ userId, movieId, rating, timestamp })),
    duplicates: rows.length - kept.size,
  };
}

function validFile(layout: Layout, rng: Rng): string[] {
  const { sep, header } = LAYOUT[layout];
  const scale = RELEASES[layout as ReleaseName].ratingScale;
  const steps = Math.round((scale.max - scale.min) / scale.step);
  const lines = header ? ['userId,movieId,rating,timestamp'] : [];
  const seen = new Set<string>();
  while (lines.length < 24) {
    const u = 1 + rng.int(6);
    const m = 1 + rng.int(layout === 'ml-1m' ? 40 : 6);
    if (seen.has(`${u}/${m}`)) continue;
    seen.add(`${u}/${m}`);
    const r = scale.min + rng.int(steps + 1) * scale.step;
    const rating = layout === 'ml-latest' ? r.toFixed(1) : String(r);
    lines.push([u, m, rating, 874000000 + rng.int(200000000)].join(sep));
  }
  return lines;
}

const BAD_VALUES = [
  '0',
  '-1',
  '2147483648',
  '4294967303',
  '1.5',
  '6',
  '0.5',
  '5.5',
  '99999999999999999999',
  '',
  '3.25',
  '1e3',
  '4.',
  ' 3',
  '2.0',
];
const GARBAGE = ['\0', '\xff', ',', ':', '\t', '\r', '7', '.', 'x', '"', '\n', '\xef\xbb\xbf', '-'];

/** Apply 1-3 seeded mutations to a valid file's lines; returns the file bytes (latin1). */
function mutate(layout: Layout, lines: string[], rng: Rng): Buffer {
  const { sep, header } = LAYOUT[layout];
  let ls = [...lines];
  let text: string | null = null;
  const pick = <T>(a: T[]) => a[rng.int(a.length)];
  const dataLine = () => (header ? 1 : 0) + rng.int(ls.length - (header ? 1 : 0));
  let nl = '\n';
  let tail = true;
  let bom = false;
  const ops = 1 + rng.int(3);
  const cuts: number[] = [];
  const garbage: Array<[number, string]> = [];
  for (let o = 0; o < ops; o++) {
    switch (rng.int(10)) {
      case 0: // truncate anywhere
        cuts.push(rng.next());
        break;
      case 1: {
        // swap two fields of one line
        const i = dataLine();
        const f = ls[i].split(sep);
        const a = rng.int(4);
        const b = rng.int(4);
        [f[a], f[b]] = [f[b], f[a]];
        ls[i] = f.join(sep);
        break;
      }
      case 2: {
        // swap two columns in every line, header included
        const a = rng.int(4);
        const b = rng.int(4);
        ls = ls.map((l) => {
          const f = l.split(sep);
          [f[a], f[b]] = [f[b], f[a]];
          return f.join(sep);
        });
        break;
      }
      case 3: {
        // an out-of-range or malformed value in one field
        const i = dataLine();
        const f = ls[i].split(sep);
        f[rng.int(4)] = pick(BAD_VALUES);
        ls[i] = f.join(sep);
        break;
      }
      case 4: // garbage bytes at a random offset
        garbage.push([rng.next(), pick(GARBAGE) + (rng.next() < 0.3 ? pick(GARBAGE) : '')]);
        break;
      case 5:
        nl = '\r\n';
        break;
      case 6:
        bom = true;
        break;
      case 7: {
        // empty or blank lines
        const i = rng.int(ls.length + 1);
        ls.splice(i, 0, pick(['', '   ', '\r']));
        break;
      }
      case 8:
        tail = false; // no newline after the last line
        break;
      default: {
        // a repeated (user, movie) pair with another rating and time
        const f = ls[dataLine()].split(sep);
        if (f.length === 4) {
          const g = ls[dataLine()].split(sep);
          if (g.length === 4) {
            f[2] = g[2];
            f[3] = g[3];
          }
        }
        ls.splice(dataLine(), 0, f.join(sep));
      }
    }
  }
  text = ls.join(nl) + (tail ? nl : '');
  for (const [pos, g] of garbage) {
    const at = Math.floor(pos * (text.length + 1));
    text = text.slice(0, at) + g + text.slice(at);
  }
  for (const c of cuts) text = text.slice(0, Math.floor(c * text.length));
  return Buffer.from((bom ? '\xef\xbb\xbf' : '') + text, 'latin1');
}

describe('property: mutated ratings files load exactly their valid rows or throw a DataError naming file and line', () => {
  for (const layout of ['ml-100k', 'ml-1m', 'ml-latest'] as Layout[]) {
    test(`${layout}`, () => {
      const rng = new Rng(2024 + layout.length);
      const { file, load } = loadWith(layout, '');
      const outcome = { loaded: 0, refused: 0, changed: 0 };
      for (let c = 0; c < 120; c++) {
        const valid = validFile(layout, rng);
        const bytes = mutate(layout, valid, rng);
        fs.writeFileSync(file, bytes);
        const want = reference(bytes, layout);
        const ctx = `case ${c}: ${JSON.stringify(bytes.toString('latin1'))}`;
        let got: ReturnType<typeof load> | undefined;
        let err: unknown;
        try {
          got = load();
        } catch (e) {
          err = e;
        }
        if ('line' in want) {
          if (!(err instanceof DataError))
            throw new Error(`${ctx}\nexpected a DataError at line ${want.line}, got ${err ?? 'rows'}`);
          if (err.file !== file || err.line !== want.line)
            throw new Error(`${ctx}\nexpected ${file}:${want.line}, got ${err.message}`);
          outcome.refused++;
        } else {
          if (err !== undefined) throw new Error(`${ctx}\nexpected ${want.rows.length} rows, got ${err}`);
          expect({ ctx, rows: got!.ratings.objects() }).toEqual({ ctx, rows: want.rows });
          expect({ ctx, duplicates: got!.report.duplicates.count }).toEqual({ ctx, duplicates: want.duplicates });
          outcome.loaded++;
          if (bytes.toString('latin1') !== valid.join('\n') + '\n') outcome.changed++;
        }
      }
      if (process.env.BST_DEBUG_PROPERTY) console.log(layout, outcome);
      // both outcomes are exercised, including mutated files that still load
      expect(outcome.refused).toBeGreaterThan(25);
      expect(outcome.changed).toBeGreaterThan(25);
    });
  }
});
