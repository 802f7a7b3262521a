/**
 * One line for any error the CLI catches: the project's own errors as they are, Node's file-system errors
 * with the path and what it means, anything else (a bug, a tfjs error) by its message only, truncated. Stack
 * traces only on request (--verbose or BST_VERBOSE=1).
 */
import { BstError } from './errors';
import { UsageError } from './args';

/** Exit codes of `bst`: 0 success, 1 the command failed (bad data, file system, refused output), 2 bad command line, 70 internal error (a bug). */
export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 70 } as const;

/** Longest message printed (minified library sources in a message are cut). */
export const MAX_MESSAGE_CHARS = 500;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is a file, expected a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  EMFILE: 'too many open files',
  EBUSY: 'busy or locked',
};

/** Cut `text` to its first lines and at most `max` characters, saying how much was left off. */
export function truncateMessage(text: string, max = MAX_MESSAGE_CHARS): string {
  const lines = text.split('\n');
  let s = lines.slice(0, 3).join(' ').replace(/\s+/g, ' ').trim();
  const cut = s.length > max || lines.length > 3;
  if (s.length > max) s = s.slice(0, max);
  return cut ? `${s} ... (${text.length} characters in all; --verbose prints everything)` : s;
}

/** How an error is reported: the line to print and the exit code. */
export interface ErrorReport {
  message: string;
  code: number;
}

/** Describe an error in one line (without the `bst <command>: ` prefix) and choose the exit code. */
export function describeError(e: unknown): ErrorReport {
  if (e instanceof UsageError) return { message: e.message, code: EXIT.usage };
  if (e instanceof BstError) return { message: `${e.name}: ${truncateMessage(e.message)}`, code: EXIT.failure };
  const err = e as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (err && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    const where = err.path ? `${err.path}${err.dest ? ` -> ${err.dest}` : ''}: ` : '';
    const what = ERRNO_TEXT[err.code] ?? truncateMessage(err.message);
    return { message: `${where}${what} (${err.code}${err.syscall ? ` in ${err.syscall}` : ''})`, code: EXIT.failure };
  }
  if (e instanceof Error) {
    return { message: `internal error: ${e.name}: ${truncateMessage(e.message)}`, code: EXIT.internal };
  }
  return { message: `internal error: ${truncateMessage(String(e))}`, code: EXIT.internal };
}

/** True when stack traces are wanted: BST_VERBOSE=1 (or true). */
export function verboseFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BST_VERBOSE === '1' || env.BST_VERBOSE === 'true';
}
