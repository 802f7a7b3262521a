/**
 * Low-level parsers for MovieLens files. Ratings files are parsed from bytes in chunks (ml-32m's ratings.csv is
 * larger than V8's longest string) into typed columns; movies and users files are small and parsed as text.
 * Every malformed line raises a DataError naming the file, the 1-based line number and the line content; a value
 * the format cannot contain raises a ParseError (a DataError) that also names the field and the value.
 */
import * as fs from 'fs';
import { DataError, ParseError } from '../util/errors';
import { TextEncoding } from './formats';

/** Parsed rating columns (file order). */
export interface RatingColumns {
  n: number;
  userId: Int32Array;
  movieId: Int32Array;
  rating: Float32Array;
  timestamp: Float64Array;
  /** 1-based line number of every row, for error messages */
  line: Int32Array;
  /** blank lines skipped (only whitespace / CR) */
  blankLines?: number;
}

/** Largest id the loaders accept: ids are stored as int32. */
export const MAX_ID = 2147483647;

/** Column names of a ratings file, in the order of RatingColumns. */
export const RATING_COLUMNS: readonly string[] = ['userId', 'movieId', 'rating', 'timestamp'];

/** Options of parseRatingsFile. */
export interface ParseRatingsOptions {
  /** field separator ('\t', '::' or ',') */
  sep: string;
  /** first line is a header row naming the columns (matched by name; a reordered header is mapped) */
  header: boolean;
  /** valid ratings min..max in steps of `step` (the release's scale); any number >= 0 when absent */
  scale?: { min: number; max: number; step: number };
  /** read size in bytes (default 16 MiB; a longer line grows the buffer) */
  chunkSize?: number;
}

const CHUNK = 16 << 20;

function grow<T extends Int32Array | Float32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as any)(n) as T;
  b.set(a);
  return b;
}

/**
 * Map a header row onto RATING_COLUMNS: `perm[f]` is the column of file field f. Names match case-insensitively
 * in any order; anything else (missing, unknown or repeated names) throws a DataError showing expected vs found.
 */
export function ratingHeaderOrder(text: string, sep: string, file: string, line: number): number[] {
  const found = text
    .replace(/^\uFEFF/, '')
    .replace(/[\r ]+$/, '')
    .split(sep)
    .map((f) => f.trim());
  const want = RATING_COLUMNS.map((c) => c.toLowerCase());
  const perm = found.map((f) => want.indexOf(f.toLowerCase()));
  if (found.length !== want.length || perm.some((c) => c < 0) || new Set(perm).size !== want.length) {
    throw new DataError(
      `header columns do not match: expected ${RATING_COLUMNS.join(sep)} (in any order), found ${found.join(sep)}`,
      file,
      line,
      text,
    );
  }
  return perm;
}

/**
 * Parse a ratings file of four numeric fields (userId, movieId, rating, timestamp) separated by `sep`
 * ('\t', '::' or ','). With `header`, the first line names the columns and may order them differently
 * (ratingHeaderOrder). A UTF-8 byte-order mark, CRLF line ends and blank lines are accepted (blank lines counted).
 *
 * Every value is checked strictly; a bad one throws a ParseError naming file, line, field and value:
 * - userId, movieId: whole numbers in 1..MAX_ID (the int32 id type; larger ids would wrap onto real ones);
 * - rating: on `scale` (e.g. ml-100k/ml-1m 1..5 whole stars, ml-10m and later 0.5..5 in halves);
 * - timestamp: a whole number of seconds >= 0 (no calendar range: fixtures and synthetic data use small times).
 * Truncation rule: only the end of a file can be cut off, and every MovieLens file ends with a newline. So when
 * the last line has no terminating newline, its timestamp must have at least as many digits as the median
 * timestamp of the lines before it; otherwise the file looks cut inside the timestamp and a ParseError says so.
 * (A cut inside any earlier field leaves fewer than 4 fields and fails the field count.)
 */
export function parseRatingsFile(file: string, opts: ParseRatingsOptions): RatingColumns {
  const sep = Buffer.from(opts.sep, 'latin1');
  const s0 = sep[0];
  const sepLen = sep.length;
  const s1 = sepLen > 1 ? sep[1] : 0;
  const scale = opts.scale;
  const size = fs.statSync(file).size;
  let cap = Math.max(1024, Math.ceil(size / 18));
  let userId = new Int32Array(cap);
  let movieId = new Int32Array(cap);
  let rating = new Float32Array(cap);
  let timestamp = new Float64Array(cap);
  let lines = new Int32Array(cap);
  let n = 0;
  let lineNo = 0;
  let blank = 0;
  let skipHeader = opts.header;
  let perm = [0, 1, 2, 3];
  const vals = [0, 0, 0, 0];
  const tsDigitCount = new Float64Array(24); // histogram of timestamp digit counts, for the truncation rule
  let tsDigits = 0; // digits of the current line's timestamp
  const order = () => perm.map((c) => RATING_COLUMNS[c]).join(opts.sep);
  const scaleText = scale ? `${scale.min}..${scale.max} in steps of ${scale.step}` : '';

  const fail = (buf: Buffer, a: number, b: number, what: string): never => {
    throw new DataError(what, file, lineNo, buf.toString('latin1', a, b).replace(/\r$/, ''));
  };
  const bad = (buf: Buffer, a: number, b: number, col: number, fa: number, fb: number, why: string): never => {
    throw new ParseError(
      why,
      file,
      lineNo,
      RATING_COLUMNS[col],
      buf.toString('latin1', fa, fb),
      buf.toString('latin1', a, b).replace(/\r$/, ''),
    );
  };

  // parse one line buf[a, b) into vals; returns false for a blank line
  const parseLine = (buf: Buffer, a: number, b: number): boolean => {
    let end = b;
    while (end > a && (buf[end - 1] === 13 || buf[end - 1] === 32)) end--;
    if (end === a) return false;
    let i = a;
    for (let f = 0; f < 4; f++) {
      const col = perm[f];
      const fa = i;
      let v = 0;
      let digits = 0;
      let frac = -1; // digits after a decimal point; -1: no point
      let neg = false;
      if (buf[i] === 45) {
        neg = true;
        i++;
      }
      while (i < end) {
        const c = buf[i] - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
        digits++;
        i++;
      }
      if (i < end && buf[i] === 46) {
        i++;
        frac = 0;
        let scaleF = 0.1;
        while (i < end) {
          const c = buf[i] - 48;
          if (c < 0 || c > 9) break;
          v += c * scaleF;
          scaleF *= 0.1;
          frac++;
          i++;
        }
        // round away float noise of the incremental decimal (ratings have at most a few decimals)
        v = Math.round(v * 1e6) / 1e6;
      }
      if (digits === 0 || frac === 0) {
        // find the field's end for the message
        let fe = i;
        while (fe < end && !(buf[fe] === s0 && (sepLen === 1 || buf[fe + 1] === s1))) fe++;
        bad(buf, a, b, col, fa, fe, `is not a number; expected ${order()}`);
      }
      if (col < 2) {
        if (neg || frac >= 0 || v < 1 || v > MAX_ID)
          bad(buf, a, b, col, fa, i, `is not an id: ids are whole numbers in 1..${MAX_ID} (int32)`);
      } else if (col === 2) {
        const r = neg ? -v : v;
        if (scale) {
          const k = (r - scale.min) / scale.step;
          if (!(r >= scale.min && r <= scale.max) || Math.abs(k - Math.round(k)) > 1e-6) {
            bad(buf, a, b, col, fa, i, `is off the rating scale ${scaleText}`);
          }
        } else if (neg) bad(buf, a, b, col, fa, i, 'is negative');
      } else {
        if (neg || frac >= 0 || v > Number.MAX_SAFE_INTEGER)
          bad(buf, a, b, col, fa, i, 'is not a timestamp: a whole number of seconds >= 0');
        tsDigits = digits;
      }
      vals[col] = neg ? -v : v;
      if (f < 3) {
        if (buf[i] !== s0 || (sepLen > 1 && buf[i + 1] !== s1) || i >= end) {
          fail(buf, a, b, `expected 4 fields separated by ${JSON.stringify(opts.sep)}`);
        }
        i += sepLen;
      }
    }
    if (i !== end) fail(buf, a, b, `expected 4 fields separated by ${JSON.stringify(opts.sep)}, found extra text`);
    return true;
  };

  // lower median of the digit counts seen so far (0 when none)
  const medianDigits = (): number => {
    let seen = 0;
    const half = Math.floor((n - 1) / 2);
    for (let d = 0; d < tsDigitCount.length; d++) {
      seen += tsDigitCount[d];
      if (seen > half) return d;
    }
    return 0;
  };

  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.max(4, opts.chunkSize ?? CHUNK));
    // a UTF-8 byte-order mark is skipped
    let carry = fs.readSync(fd, buf, 0, 3, null); // bytes of an unfinished line at the start of buf
    if (carry === 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) carry = 0;
    let eof = false;
    while (!eof) {
      if (carry === buf.length) {
        const nb = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(nb, 0, 0, carry);
        buf = nb;
      }
      const read = fs.readSync(fd, buf, carry, buf.length - carry, null);
      eof = read === 0;
      const len = carry + read;
      let start = 0;
      for (;;) {
        let nl = buf.indexOf(10, start);
        let unterminated = false;
        if (nl < 0 || nl >= len) {
          if (!eof) break;
          if (start >= len) break;
          nl = len; // last line without newline
          unterminated = true;
        }
        lineNo++;
        if (skipHeader) {
          let he = nl;
          while (he > start && (buf[he - 1] === 13 || buf[he - 1] === 32)) he--;
          if (he === start) blank++;
          else {
            skipHeader = false;
            perm = ratingHeaderOrder(buf.toString('latin1', start, Math.min(he, start + 200)), opts.sep, file, lineNo);
          }
        } else if (parseLine(buf, start, nl)) {
          if (unterminated && n > 0 && tsDigits < medianDigits()) {
            throw new ParseError(
              `looks cut off: the last line has no terminating newline and its timestamp has ${tsDigits} digits where ` +
                `the file's timestamps have ${medianDigits()} (median); the file seems truncated (download it again)`,
              file,
              lineNo,
              'timestamp',
              String(vals[3]),
              buf.toString('latin1', start, nl),
            );
          }
          tsDigitCount[Math.min(tsDigits, tsDigitCount.length - 1)]++;
          if (n === cap) {
            cap = Math.ceil(cap * 1.5);
            userId = grow(userId, cap);
            movieId = grow(movieId, cap);
            rating = grow(rating, cap);
            timestamp = grow(timestamp, cap);
            lines = grow(lines, cap);
          }
          userId[n] = vals[0];
          movieId[n] = vals[1];
          rating[n] = vals[2];
          timestamp[n] = vals[3];
          lines[n] = lineNo;
          n++;
        } else blank++;
        start = nl + 1;
        if (start >= len) break;
      }
      carry = Math.max(0, len - start);
      if (carry > 0 && start > 0) buf.copy(buf, 0, start, len);
    }
  } finally {
    fs.closeSync(fd);
  }
  const fit = <T extends Int32Array | Float32Array | Float64Array>(a: T): T =>
    (a.length > n * 1.05 ? a.slice(0, n) : a.subarray(0, n)) as T;
  return {
    n,
    userId: fit(userId),
    movieId: fit(movieId),
    rating: fit(rating),
    timestamp: fit(timestamp),
    line: fit(lines),
    blankLines: blank,
  };
}

/** Read a text file with the given encoding ('auto': UTF-8, or latin-1 when the bytes are not valid UTF-8). */
export function readText(file: string, encoding: TextEncoding): string {
  let buf = fs.readFileSync(file);
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3); // UTF-8 byte-order mark
  if (encoding === 'latin1') return buf.toString('latin1');
  const s = buf.toString('utf8');
  if (encoding === 'auto' && s.includes('\uFFFD')) return buf.toString('latin1');
  return s;
}

/** Split text into lines (LF or CRLF), keeping 1-based line numbers; blank lines are skipped. */
export function textLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const parts = text.split('\n');
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i].endsWith('\r') ? parts[i].slice(0, -1) : parts[i];
    if (t.trim() !== '') out.push({ line: i + 1, text: t });
  }
  return out;
}

/**
 * Split one CSV line (RFC 4180 quoting: fields containing commas are quoted, `""` is a literal quote).
 * Throws a DataError on an unterminated quote.
 */
export function splitCsvLine(s: string, file: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (s[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) throw new DataError('unterminated quoted field', file, line, s);
        v += s.slice(i, q);
        if (s[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      if (i >= s.length) return out;
      if (s[i] !== ',') throw new DataError('text after a closing quote', file, line, s);
      i++;
    } else {
      const c = s.indexOf(',', i);
      if (c < 0) {
        out.push(s.slice(i));
        return out;
      }
      out.push(s.slice(i, c));
      i = c + 1;
    }
  }
}

/** Parse an id field strictly: a whole number in 1..MAX_ID (int32), else a ParseError naming file, line, field and value. */
export function idField(v: string | undefined, what: string, file: string, line: number, content: string): number {
  const t = (v ?? '').trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_ID) {
    throw new ParseError(
      `is not an id: ids are whole numbers in 1..${MAX_ID} (int32)`,
      file,
      line,
      what,
      v ?? '',
      content,
    );
  }
  return Number(t);
}

/** Parse an integer field strictly (digits only); throws a DataError naming the field otherwise. */
export function intField(v: string | undefined, what: string, file: string, line: number, content: string): number {
  const t = (v ?? '').trim();
  if (!/^-?\d+$/.test(t))
    throw new DataError(`${what} is not an integer: ${JSON.stringify(v ?? '')}`, file, line, content);
  return Number(t);
}
