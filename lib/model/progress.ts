/**
 * A progress bar with samples/s and ETA that works in a terminal (redrawn in place with \r on a TTY) and in
 * notebooks / logs (stdout not a TTY: one line every `everyPercent` % or every `everySeconds` seconds).
 */

/** Options of ProgressBar. */
export interface ProgressOptions {
  /** Expected total (samples); unknown -> no percentage / ETA. */
  total?: number;
  /** Text in front of the bar, e.g. "epoch 3". */
  label?: string;
  /** Where output goes. Default process.stdout.write. */
  write?: (s: string) => void;
  /** Redraw in place with \r. Default: process.stdout.isTTY. */
  isTTY?: boolean;
  /** Non-TTY: print a line each time this many percent more are done. Default 10. */
  everyPercent?: number;
  /** Non-TTY: print a line at least this often (seconds) when progress is made. Default 10. */
  everySeconds?: number;
  /** TTY: minimum milliseconds between redraws. Default 100. */
  redrawMs?: number;
  /** Clock in milliseconds (for tests). Default Date.now. */
  now?: () => number;
}

/** Format seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return (h > 0 ? `${h}:` : '') + `${mm}:${String(r).padStart(2, '0')}`;
}

/** A progress bar over a count of samples. */
export class ProgressBar {
  private readonly o: Required<Omit<ProgressOptions, 'total' | 'label'>> & { total?: number; label: string };
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLinePercent = 0;
  private lastLineTime: number;
  private done = 0;
  private finished = false;

  constructor(opts: ProgressOptions = {}) {
    this.o = {
      total: opts.total,
      label: opts.label ?? '',
      write:
        opts.write ??
        ((s: string) => {
          process.stdout.write(s);
        }),
      isTTY: opts.isTTY ?? !!process.stdout.isTTY,
      everyPercent: opts.everyPercent ?? 10,
      everySeconds: opts.everySeconds ?? 10,
      redrawMs: opts.redrawMs ?? 100,
      now: opts.now ?? Date.now,
    };
    this.start = this.o.now();
    this.lastLineTime = this.start;
  }

  /** The status text for `done` samples (bar, percentage, rate, ETA, extra). */
  render(done: number, extra = ''): string {
    const elapsed = (this.o.now() - this.start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const total = this.o.total;
    const parts: string[] = [];
    if (this.o.label) parts.push(this.o.label);
    if (total && total > 0) {
      const frac = Math.min(1, done / total);
      const width = 20;
      const filled = Math.round(frac * width);
      parts.push(
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}`,
      );
    } else parts.push(`${done}`);
    parts.push(`${Math.round(rate)} samples/s`);
    if (total && total > 0)
      parts.push(
        done >= total
          ? `${formatDuration(elapsed)} elapsed`
          : `ETA ${formatDuration(rate > 0 ? (total - done) / rate : NaN)}`,
      );
    else parts.push(`${formatDuration(elapsed)} elapsed`);
    if (extra) parts.push(extra);
    return parts.join(' ');
  }

  /** Report that `done` samples are processed (absolute count). */
  update(done: number, extra = ''): void {
    this.done = done;
    const t = this.o.now();
    if (this.o.isTTY) {
      if (t - this.lastDraw < this.o.redrawMs) return;
      this.lastDraw = t;
      this.o.write(`\r${this.render(done, extra)}\x1b[K`);
      return;
    }
    const total = this.o.total;
    const pct = total && total > 0 ? (100 * done) / total : 0;
    const dueByPercent = total && total > 0 && pct >= this.lastLinePercent + this.o.everyPercent && pct < 100;
    const dueByTime = (t - this.lastLineTime) / 1000 >= this.o.everySeconds;
    if (dueByPercent || dueByTime) {
      if (total && total > 0) this.lastLinePercent = Math.floor(pct / this.o.everyPercent) * this.o.everyPercent;
      this.lastLineTime = t;
      this.o.write(this.render(done, extra) + '\n');
    }
  }

  /** Print the final line (once). */
  finish(extra = ''): void {
    if (this.finished) return;
    this.finished = true;
    const line = this.render(this.done, extra);
    this.o.write(this.o.isTTY ? `\r${line}\x1b[K\n` : line + '\n');
  }
}
