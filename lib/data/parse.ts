/**
 * Low-level parsers for MovieLens files. Ratings files are parsed from bytes in chunks (ml-32m's ratings.csv is
 * larger than V8's longest string) into typed columns; movies and users files are small and parsed as text.
 * Every malformed line raises a DataError naming the file, the 1-based line number and the line content.
 */
import * as fs from 'fs';
import { DataError } from '../util/errors';
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
}

const CHUNK = 16 << 20;

function grow<T extends Int32Array | Float32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as any)(n) as T;
  b.set(a);
  return b;
}

/**
 * Parse a ratings file of four numeric fields (userId, movieId, rating, timestamp) separated by `sep`
 * ('\t', '::' or ','), skipping a header row when `header` is set. Blank lines are skipped. The file is read in
 * chunks of `chunkSize` bytes (default 16 MiB; a longer line grows the buffer).
 */
export function parseRatingsFile(file: string, opts: { sep: string; header: boolean; chunkSize?: number }): RatingColumns {
  const sep = Buffer.from(opts.sep, 'latin1');
  const s0 = sep[0];
  const sepLen = sep.length;
  const s1 = sepLen > 1 ? sep[1] : 0;
  const size = fs.statSync(file).size;
  let cap = Math.max(1024, Math.ceil(size / 18));
  let userId = new Int32Array(cap);
  let movieId = new Int32Array(cap);
  let rating = new Float32Array(cap);
  let timestamp = new Float64Array(cap);
  let lines = new Int32Array(cap);
  let n = 0;
  let lineNo = 0;
  let skipHeader = opts.header;
  const vals = [0, 0, 0, 0];

  const fail = (buf: Buffer, a: number, b: number, what: string): never => {
    throw new DataError(what, file, lineNo, buf.toString('latin1', a, b).replace(/\r$/, ''));
  };

  // parse one line buf[a, b) into vals; returns false for a blank line
  const parseLine = (buf: Buffer, a: number, b: number): boolean => {
    let end = b;
    while (end > a && (buf[end - 1] === 13 || buf[end - 1] === 32)) end--;
    if (end === a) return false;
    let i = a;
    for (let f = 0; f < 4; f++) {
      let v = 0;
      let digits = 0;
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
        let scale = 0.1;
        while (i < end) {
          const c = buf[i] - 48;
          if (c < 0 || c > 9) break;
          v += c * scale;
          scale *= 0.1;
          digits++;
          i++;
        }
        // round away float noise of the incremental decimal (ratings have at most a few decimals)
        v = Math.round(v * 1e6) / 1e6;
      }
      if (digits === 0) fail(buf, a, b, `field ${f + 1} is not a number; expected userId${opts.sep}movieId${opts.sep}rating${opts.sep}timestamp`);
      vals[f] = neg ? -v : v;
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

  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(opts.chunkSize ?? CHUNK);
    let carry = 0; // bytes of an unfinished line at the start of buf
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
        if (nl < 0 || nl >= len) {
          if (!eof) break;
          if (start >= len) break;
          nl = len; // last line without newline
        }
        lineNo++;
        if (skipHeader) {
          skipHeader = false;
          const first = buf.toString('latin1', start, Math.min(nl, start + 200));
          if (!/^\s*userId/i.test(first)) {
            throw new DataError('expected a header row "userId,movieId,rating,timestamp"', file, lineNo, first);
          }
        } else if (parseLine(buf, start, nl)) {
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
        }
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
  };
}

/** Read a text file with the given encoding ('auto': UTF-8, or latin-1 when the bytes are not valid UTF-8). */
export function readText(file: string, encoding: TextEncoding): string {
  const buf = fs.readFileSync(file);
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

/** Parse an integer field strictly (digits only); throws a DataError naming the field otherwise. */
export function intField(v: string | undefined, what: string, file: string, line: number, content: string): number {
  const t = (v ?? '').trim();
  if (!/^-?\d+$/.test(t)) throw new DataError(`${what} is not an integer: ${JSON.stringify(v ?? '')}`, file, line, content);
  return Number(t);
}
