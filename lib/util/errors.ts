/** Named errors of bst-lab. Every message carries the offending value (and file/line where there is one). */

/** Base class: `instanceof BstError` catches every error raised by this library. */
export class BstError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration value is invalid (unknown name, out of range, sizes that do not divide). */
export class ConfigError extends BstError {}

/** A data file is missing or malformed. `file` and `line` (1-based) locate the problem. */
export class DataError extends BstError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly content?: string,
  ) {
    super(
      (file ? `${file}${line !== undefined ? `:${line}` : ''}: ` : '') +
        message +
        (content !== undefined
          ? ` (line content: ${JSON.stringify(content.length > 200 ? content.slice(0, 200) + '...' : content)})`
          : ''),
    );
  }
}

/**
 * A data line holds a value its format cannot contain (an id outside int32, a rating off the release's scale, a
 * cut-off timestamp). `field` names the column and `value` is the text found there.
 */
export class ParseError extends DataError {
  constructor(
    message: string,
    file: string,
    line: number,
    readonly field: string,
    readonly value: string,
    content?: string,
  ) {
    super(`${field} ${JSON.stringify(value)}: ${message}`, file, line, content);
  }
}

/** A download failed (offline, HTTP error, bad checksum). */
export class DownloadError extends BstError {}

/** Training diverged (NaN or infinite loss) or a checkpoint cannot be used. */
export class TrainingError extends BstError {}

/** A tfjs backend could not be selected or initialised. */
export class BackendError extends BstError {}

/**
 * The wasm heap cannot hold an allocation (`_malloc` returned 0). Nothing was overwritten: the allocation was
 * refused before any tensor data was written.
 */
export class OutOfMemoryError extends BstError {
  constructor(
    message: string,
    readonly bytesRequested: number,
    readonly heapBytes: number,
  ) {
    super(message);
  }
}

/**
 * An output folder or file cannot be used: it is a file, not writable, holds another run, or writing would
 * replace a better result. The message names the path and the flag that allows the write.
 */
export class OutputError extends BstError {}

/** The parts of a run folder (metrics, checkpoint, split, data) do not belong to the same run. */
export class RunMismatchError extends BstError {}

/** Throw a ConfigError unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new ConfigError(message);
}
