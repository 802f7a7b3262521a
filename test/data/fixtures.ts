/** Tiny hand-written MovieLens-format fixtures (not copied from MovieLens), written into temp folders. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A fresh temp folder. */
export function tmpDir(prefix = 'bst-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write files (name -> text, encoded latin1 or utf8) into dir/sub and return that folder. */
export function writeFiles(dir: string, files: Record<string, string>, encoding: 'latin1' | 'utf8'): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), Buffer.from(text, encoding));
  return dir;
}

export const ML100K_FILES = {
  'u.genre': 'unknown|0\nAction|1\nComedy|2\nDrama|3\n\n',
  'u.item':
    [
      '1|Tiny Film (1994)|01-Jan-1994||http://x|0|1|0|0',
      '2|Amélie Tiny (2001)|01-Jan-2001||http://x|0|0|1|1',
      '3|No Year Film|01-Jan-1990||http://x|1|0|0|0',
    ].join('\n') + '\n',
  'u.user': '1|15|M|student|55105\n2|33|F|writer|T8H1N\n',
  'u.data': ['1\t1\t5\t100', '1\t2\t3\t200', '2\t3\t4\t150', '2\t1\t2\t150'].join('\n') + '\n',
};

export const ML1M_FILES = {
  'movies.dat':
    ['10::Café Society (1995)::Comedy|Drama', '20::Solo, Han (2018)::Action|Sci-Fi', '30::Untitled::Drama'].join('\n') +
    '\n',
  'users.dat': ['7::F::25::12::02139', '8::M::56::0::K1A0B'].join('\n') + '\n',
  'ratings.dat':
    ['7::20::4::978300760', '7::10::5::978300700', '8::30::1::978300800', '8::10::3::978300800'].join('\n') + '\n',
};

export const ML10M_FILES = {
  'movies.dat': ['1::Plain Film (1999)::Drama', '2::Another (2000)::Comedy|Romance'].join('\n') + '\n',
  'ratings.dat': ['5::1::3.5::1000', '5::2::4.5::999', '6::2::0.5::1200'].join('\n') + '\n',
};

export const CSV_FILES = {
  'movies.csv':
    [
      'movieId,title,genres',
      '1,"Good, the Bad and the Tiny, The (1966)",Western',
      '2,"Quote ""Film"" (2010)",Comedy|Drama',
      '3,Naïve Title (2012–2013),(no genres listed)',
    ].join('\n') + '\n',
  'ratings.csv':
    ['userId,movieId,rating,timestamp', '1,1,4.0,1000', '1,2,2.5,1001', '2,3,5.0,1002'].join('\r\n') + '\r\n',
};

/** ml-1m-format files for a list of users, each with n ratings of movies 1..n at times 1000 + i. */
export function ml1mForCounts(counts: number[]): Record<string, string> {
  const maxN = Math.max(...counts);
  const movies: string[] = [];
  for (let m = 1; m <= maxN; m++) movies.push(`${m}::Movie ${m} (2000)::Drama`);
  const users: string[] = [];
  const ratings: string[] = [];
  counts.forEach((n, u) => {
    users.push(`${u + 1}::M::25::1::12345`);
    for (let i = 0; i < n; i++) ratings.push(`${u + 1}::${i + 1}::${1 + ((u + i) % 5)}::${1000 + i}`);
  });
  return {
    'movies.dat': movies.join('\n') + '\n',
    'users.dat': users.join('\n') + '\n',
    'ratings.dat': ratings.join('\n') + '\n',
  };
}
