import * as fs from 'fs';
import * as path from 'path';
import { DataError, OutputError } from './errors';

/**
 * Write a file atomically: write to a temporary file in the same folder, fsync, then rename over the target.
 * A crash leaves either the old file or the new one, never a half-written one.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Write JSON atomically (pretty-printed, trailing newline). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Read and parse a JSON file. Invalid JSON is a DataError naming the file (a corrupt checkpoint or run file). */
export function readJson<T = unknown>(file: string): T {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new DataError(
      `not valid JSON (${(e as Error).message}; ${text.length} characters); the file is corrupt or truncated`,
      file,
    );
  }
}

/**
 * Check up front that `dir` can be used as an output folder: it is not a file, it can be created, and a file
 * can be written in it (a probe file is written and removed). Throws an OutputError naming the folder and `flag`.
 */
export function checkWritableDir(dir: string, flag = '--out'): void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new OutputError(`${flag} ${dir} is a file; ${flag} names a folder`);
  }
  const probe = path.join(dir, `.bst-write-probe-${process.pid}-${Date.now()}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new OutputError(
      `${flag} ${dir} is not writable (${err.code ?? err.message}${err.path && err.path !== probe ? ` at ${err.path}` : ''})`,
    );
  }
}

/**
 * Check up front that `file` can be written: not a folder, and its folder is writable (see checkWritableDir).
 */
export function checkWritableFile(file: string, flag = '--out'): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new OutputError(`${flag} ${file} is a folder; ${flag} names a file`);
  checkWritableDir(path.dirname(file), `${flag}'s folder`);
}
