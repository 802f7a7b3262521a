/**
 * Showing things in a notebook: charts, tables, HTML and a live progress bar through tslab's display API.
 * tslab is required lazily and only when this process is a tslab kernel; elsewhere (jest, scripts, the CLI)
 * every function prints a plain-text fallback instead, so the same code runs everywhere.
 */
import { Figure, ChartSession, Layout, Trace } from './plotly';
import { TableOptions, TableSource, tableHtml, tableText } from './table';
import { escapeHtml } from './html';

/** Where displays go: tslab's `display` (and `newDisplay` for outputs updated in place). */
export interface DisplayTarget {
  html(s: string): void;
  /** a display whose later calls replace its earlier output (progress bars) */
  newDisplay?(): { html(s: string): void };
}

let override: DisplayTarget | null | undefined;

/**
 * Displays sent since the event loop last turned. tslab sends every display to the notebook without awaiting
 * it, and its zeromq socket sends at most 512 messages synchronously between two turns of the event loop; it
 * defers the next one and throws EBUSY on the one after, which kills the kernel. A synchronous loop of minutes
 * that redraws a progress bar every 250 ms gets there (notebook 06's ranking evaluation on ML-1M did), so
 * progress redraws back off as this count grows (see `progressBar`).
 */
let sentThisTurn = 0;
let resetScheduled = false;

function countSend(): void {
  sentThisTurn++;
  if (resetScheduled) return;
  resetScheduled = true;
  setImmediate(() => {
    sentThisTurn = 0;
    resetScheduled = false;
  });
}

/** How many displays were sent since the event loop last turned (see `countSend`). */
export function displaysSinceYield(): number {
  return sentThisTurn;
}

/** `t` with every display counted (countSend). */
function counted(t: DisplayTarget): DisplayTarget {
  const html = (f: (s: string) => void) => (s: string) => {
    countSend();
    f(s);
  };
  return {
    html: html((s) => t.html(s)),
    newDisplay: t.newDisplay
      ? () => {
          const d = t.newDisplay!();
          return { html: html((s) => d.html(s)) };
        }
      : undefined,
  };
}

/** Route displays to `target` (tests), or back to auto-detection with `undefined`; `null` forces text. */
export function setDisplayTarget(target: DisplayTarget | null | undefined): void {
  override = target;
}

/** tslab's display when this process is a tslab kernel that is executing a cell, else null. */
export function kernelDisplay(): DisplayTarget | null {
  if (override !== undefined) return override === null ? null : counted(override);
  try {
    // The kernel has loaded tslab's jupyter module; a plain Node process (jest, tsx) has not, and then we
    // must not load tslab (it pulls in its own TypeScript).
    const key = Object.keys(require.cache ?? {}).find((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
    if (!key) return null;
    const jupyter = require.cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined;
    if (!jupyter || jupyter.lastWriteDisplayData == null) return null;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const tslab = require('tslab') as { display: DisplayTarget; newDisplay(): { html(s: string): void } };
    clientSessionId(); // start recording the client session of the following requests
    return counted({ html: (s) => tslab.display.html(s), newDisplay: () => tslab.newDisplay() });
  } catch {
    return null;
  }
}

let clientSession: string | undefined;
let sessionHooked = false;

/**
 * The Jupyter client session of the cell now executing ('' when unknown): every browser page (and every
 * reload of it) talks to the kernel through its own session, so charts key "plotly.js is on this page" on it.
 * tslab does not expose the request header, so this wraps its ZMQ server's execute handler (once) to record
 * `header.session` of each execute request; the request that runs this first call is therefore unknown.
 */
export function clientSessionId(): string {
  if (!sessionHooked) {
    sessionHooked = true;
    try {
      const key = Object.keys(require.cache ?? {}).find((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
      const jupyter = key
        ? (require.cache[key]?.exports as { ZmqServer?: { prototype: Record<string, unknown> } })
        : undefined;
      const proto = jupyter?.ZmqServer?.prototype;
      const original = proto?.handleExecute;
      if (proto && typeof original === 'function') {
        proto.handleExecute = function (this: unknown, sock: unknown, msg: { header?: { session?: unknown } }) {
          if (typeof msg?.header?.session === 'string') clientSession = msg.header.session;
          return (original as (...a: unknown[]) => unknown).call(this, sock, msg);
        };
      }
    } catch {
      // tslab changed shape: charts fall back to one plotly.js copy per kernel process
    }
  }
  return clientSession ?? '';
}

// In a kernel, start recording client sessions when lib loads (the cell importing lib), so that the first
// chart's page is already known; elsewhere this only scans require.cache once.
clientSessionId();

/** True when displays reach a notebook (tslab kernel). */
export function inNotebook(): boolean {
  return kernelDisplay() !== null;
}

/** Show raw HTML in the notebook; outside one, print `fallbackText` (default: the HTML's text). */
export function showHtml(html: string, fallbackText?: string): void {
  const d = kernelDisplay();
  if (d) d.html(html);
  else console.log(fallbackText ?? html.replace(/<[^>]*>/g, ''));
}

/** Show a heading or short note as HTML (markdown-free, escaped). */
export function showNote(text: string, opts: { heading?: boolean } = {}): void {
  const tag = opts.heading ? 'h4' : 'p';
  showHtml(`<${tag}>${escapeHtml(text)}</${tag}>`, text);
}

const session = new ChartSession();

/** Options of `plot`. */
export interface PlotOptions {
  /** chart name (data-bst-chart attribute; README pictures pick charts by it) */
  name?: string;
  /** plotly config overrides */
  config?: Record<string, unknown>;
}

function describe(fig: Figure): string {
  const title = fig.layout.title;
  const text = typeof title === 'string' ? title : (title as { text?: string } | undefined)?.text;
  const kinds = fig.data.map((t) => String(t.type ?? 'scatter'));
  return `[chart${text ? `: ${text}` : ''} (${kinds.join(', ')}; open in a notebook to see it)]`;
}

/**
 * Draw a plotly chart: `plot(figure)` or `plot(traces, layout)`. In a notebook the output is HTML (plotly.js
 * embedded in the first chart of each browser page the kernel serves: once per notebook run headless, again
 * after a page reload); elsewhere a one-line description is printed.
 */
export function plot(traces: Trace[] | Figure, layout: Layout = {}, opts: PlotOptions = {}): void {
  const fig: Figure = Array.isArray(traces)
    ? { data: traces, layout }
    : { ...traces, layout: { ...traces.layout, ...layout } };
  if (opts.config) fig.config = { ...(fig.config ?? {}), ...opts.config };
  const d = kernelDisplay();
  if (d) d.html(session.html(fig, { name: opts.name, page: override === undefined ? clientSessionId() : '' }));
  else console.log(describe(fig));
}

/** Show a table (arquero table or row objects) as HTML in a notebook, as aligned text elsewhere. */
export function showTable(t: TableSource, opts: TableOptions = {}): void {
  const d = kernelDisplay();
  if (d) d.html(tableHtml(t, opts));
  else console.log(tableText(t, opts));
}

/** A progress display updated in place. */
export interface Progress {
  /** report `done` of `total` units, with an optional status text ("loss 0.91") */
  update(done: number, text?: string): void;
  /** mark finished (shows the final text) */
  finish(text?: string): void;
}

/** HTML of a progress bar: label, bar, percentage, count, elapsed time, rate and time left. Pure. */
export function progressHtml(
  label: string,
  done: number,
  total: number,
  text = '',
  elapsedS?: number,
  unit = '',
): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const pct = (frac * 100).toFixed(0);
  const eta =
    elapsedS !== undefined && frac > 0 && frac < 1 ? `, ~${Math.round((elapsedS * (1 - frac)) / frac)} s left` : '';
  const rate =
    elapsedS !== undefined && elapsedS > 0 && done > 0
      ? `, ${formatRate(done / elapsedS)}${unit ? ` ${unit}` : ''}/s`
      : '';
  const time = elapsedS !== undefined ? ` (${elapsedS.toFixed(1)} s${rate}${eta})` : '';
  return (
    `<div class="bst-progress" style="font-family:monospace">` +
    `<span>${escapeHtml(label)}</span> ` +
    `<progress value="${done}" max="${total}" style="width:240px;vertical-align:middle"></progress> ` +
    `<span>${pct}% ${done}/${total}${escapeHtml(time)} ${escapeHtml(text)}</span></div>`
  );
}

function formatRate(r: number): string {
  return r >= 100 ? String(Math.round(r)) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

/** Displays per event-loop turn a progress bar never exceeds (zeromq's synchronous limit is 512, see countSend). */
const MAX_DISPLAYS_PER_TURN = 300;

/**
 * A live progress bar: in a notebook an HTML bar redrawn in place (at most every `minIntervalMs`, default
 * 250), elsewhere a line on stderr every `logEveryS` seconds (default 10) and at the end. `unit` names what
 * is counted in the rate ("users" -> "12.5 users/s"). In a synchronous loop that never yields to the event
 * loop, the interval grows by 5% with each display sent since the last turn (a bar redrawn for a whole day of
 * such a loop sends about 200), and no redraw is sent past MAX_DISPLAYS_PER_TURN: the kernel stays alive.
 */
export function progressBar(opts: {
  total: number;
  label?: string;
  minIntervalMs?: number;
  logEveryS?: number;
  unit?: string;
}): Progress {
  const label = opts.label ?? '';
  const start = Date.now();
  const d = kernelDisplay();
  const live = d?.newDisplay ? d.newDisplay() : null;
  let last = 0;
  let lastDone = 0;
  let lastText = '';
  const draw = (done: number, text: string, force: boolean) => {
    const now = Date.now();
    const elapsed = (now - start) / 1000;
    if (live) {
      const backlog = displaysSinceYield();
      if (backlog >= MAX_DISPLAYS_PER_TURN) return;
      if (!force && now - last < (opts.minIntervalMs ?? 250) * Math.pow(1.05, backlog)) return;
      last = now;
      live.html(progressHtml(label, done, opts.total, text, elapsed, opts.unit));
    } else {
      if (!force && now - last < (opts.logEveryS ?? 10) * 1000) return;
      last = now;
      const left =
        done > 0 && done < opts.total ? `, ~${Math.round((elapsed * (opts.total - done)) / done)} s left` : '';
      process.stderr.write(`${label} ${done}/${opts.total} (${elapsed.toFixed(1)} s${left}) ${text}\n`);
    }
  };
  if (live) draw(0, '', true);
  else last = start;
  return {
    update(done, text = '') {
      lastDone = done;
      lastText = text;
      draw(done, text, false);
    },
    finish(text) {
      draw(Math.max(lastDone, opts.total), text ?? lastText, true);
    },
  };
}
