/**
 * Plotly charts as self-contained HTML outputs that draw offline in JupyterLab, the classic notebook and
 * nbconvert's HTML export.
 *
 * plotly.js (node_modules/plotly.js-dist-min, ~4.8 MB) is inlined once per page: a `ChartSession` puts it into
 * the first chart it draws for a page (a notebook file run headless, or one browser page of a live kernel;
 * `html`'s `page` option names the page, see lib/viz/display.ts) inside a function whose `define`, `module` and
 * `exports` parameters are undefined, so a page's require.js (classic notebook, nbconvert export) or CommonJS
 * globals cannot capture it: it always ends as `window.Plotly`. Every chart is then
 *
 *   <div id=ID class="bst-chart">placeholder text</div>
 *   <script type="application/json" id=ID-fig>{data, layout, config}</script>
 *   <script> wait (bounded retries) for window.Plotly and the div in the document, then Plotly.newPlot </script>
 *
 * The waiting script also revives plotly.js when the page holds the embedded copy but never ran it (an output
 * re-rendered without its scripts): it runs that copy's text once per page.
 *
 * If plotly.js never arrives the div says so in words ("plotly.js not loaded ..."). An untrusted notebook runs
 * no script: the placeholder text tells the reader to trust it or run it.
 */
import * as fs from 'fs';
import { IdSource, escapeHtml, inlineScriptSource, jsonForScript } from './html';

/** One plotly trace (`{ type: 'bar', x, y, ... }`); see plotly.js docs for the fields. */
export type Trace = Record<string, unknown>;
/** A plotly layout object. */
export type Layout = Record<string, unknown>;

/** What a chart draws: traces, layout and plotly config. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

/** Options of one chart's HTML. */
export interface ChartHtmlOptions {
  /** the element id of the chart's div (unique in the page) */
  id: string;
  /** JavaScript source of plotly.js to inline before the chart; omit when the page already has it */
  plotlySource?: string;
  /** a name for the chart (data-bst-chart attribute; scripts pick README pictures by it) */
  name?: string;
  /** how long the chart waits for plotly.js, in 100 ms tries (default 150 = 15 s) */
  maxTries?: number;
}

/** The text shown in a chart's div when plotly.js never loaded. */
export const PLOTLY_MISSING_TEXT =
  'plotly.js not loaded: this chart needs the plotly.js copy embedded in the first chart of the notebook; ' +
  'run all cells again (Kernel > Restart & Run All) or trust the notebook (File > Trust Notebook).';

/** The text a chart's div holds until its script draws it (seen only when scripts do not run). */
export const CHART_PLACEHOLDER_TEXT =
  'Chart not drawn: scripts did not run. Trust the notebook (File > Trust Notebook) or run its cells.';

/** Default plotly config: responsive, no logo, no cloud links. */
export const DEFAULT_PLOTLY_CONFIG: Record<string, unknown> = { responsive: true, displaylogo: false, showLink: false };

/**
 * Config every chart gets whatever it asks for: no toolbar button or link that uploads the data to a cloud
 * service (the MovieLens licence forbids redistributing the ratings).
 */
export const NO_CLOUD_CONFIG: Record<string, unknown> = {
  showLink: false,
  showSendToCloud: false,
  showEditInChartStudio: false,
  modeBarButtonsToRemove: ['sendDataToCloud', 'editInChartStudio'],
};

/** Default layout pieces merged under every chart's layout. */
export const DEFAULT_LAYOUT: Layout = {
  height: 380,
  margin: { l: 60, r: 20, t: 50, b: 50 },
  font: { family: 'Helvetica, Arial, sans-serif', size: 12 },
  paper_bgcolor: 'white',
  plot_bgcolor: 'white',
};

let cachedSource: string | undefined;

/** Path of the plotly.js bundle that gets inlined. */
export function plotlyBundlePath(): string {
  return require.resolve('plotly.js-dist-min/plotly.min.js');
}

/**
 * plotly.js wrapped for inlining: a function whose `define`, `module` and `exports` are undefined, so the
 * bundle's UMD header takes its browser branch and the bundle sets `window.Plotly`. Cached per process.
 */
export function plotlyScriptSource(): string {
  if (cachedSource === undefined) {
    const src = fs.readFileSync(plotlyBundlePath(), 'utf8');
    cachedSource = wrapLibrary(src);
  }
  return cachedSource;
}

/** Wrap a UMD library so AMD loaders and CommonJS globals of the page cannot capture it. Pure. */
export function wrapLibrary(src: string): string {
  return (
    '(function (define, module, exports) {\n' +
    inlineScriptSource(src) +
    '\n}).call(typeof self !== "undefined" ? self : this, undefined, undefined, undefined);'
  );
}

function mergeLayout(layout: Layout): Layout {
  const out: Layout = { ...DEFAULT_LAYOUT, ...layout };
  if (layout.margin && typeof layout.margin === 'object') {
    out.margin = { ...(DEFAULT_LAYOUT.margin as object), ...(layout.margin as object) };
  }
  if (typeof out.title === 'string') out.title = { text: out.title };
  return out;
}

/** The figure as drawn: default layout and config merged under the given ones, cloud buttons off. Pure. */
export function resolveFigure(fig: Figure): Figure {
  const config: Record<string, unknown> = { ...DEFAULT_PLOTLY_CONFIG, ...(fig.config ?? {}), ...NO_CLOUD_CONFIG };
  const removeAsked = fig.config?.modeBarButtonsToRemove;
  if (Array.isArray(removeAsked)) {
    config.modeBarButtonsToRemove = [
      ...new Set([...(removeAsked as string[]), ...(NO_CLOUD_CONFIG.modeBarButtonsToRemove as string[])]),
    ];
  }
  return { data: fig.data, layout: mergeLayout(fig.layout), config };
}

/** HTML of one chart (optionally preceded by the inlined plotly.js). Pure: same inputs, same string. */
export function chartHtml(fig: Figure, opts: ChartHtmlOptions): string {
  const id = opts.id;
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`chart id ${JSON.stringify(id)} must be letters, digits, - or _`);
  const resolved = resolveFigure(fig);
  const height = typeof resolved.layout.height === 'number' ? resolved.layout.height : 380;
  const tries = opts.maxTries ?? 150;
  const parts: string[] = [];
  if (opts.plotlySource !== undefined) {
    parts.push(`<script type="text/javascript" data-bst-plotly="embedded">${opts.plotlySource}</script>`);
  }
  const nameAttr = opts.name ? ` data-bst-chart="${escapeHtml(opts.name)}"` : '';
  parts.push(
    `<div id="${id}" class="bst-chart"${nameAttr} style="width:100%;min-height:${height}px">` +
      `<span class="bst-chart-placeholder" style="color:#888;font-style:italic">${escapeHtml(CHART_PLACEHOLDER_TEXT)}</span></div>`,
  );
  parts.push(`<script type="application/json" id="${id}-fig">${jsonForScript(resolved)}</script>`);
  parts.push(
    `<script type="text/javascript">(function () {
  var id = ${JSON.stringify(id)}, tries = 0, maxTries = ${tries};
  function revive() {
    // the page holds the embedded plotly.js but it never ran (an output re-rendered without its scripts): run it once
    if (window.Plotly || window.__bstPlotlyRevived) return;
    var copy = document.querySelector('script[data-bst-plotly]');
    if (!copy) return;
    window.__bstPlotlyRevived = true;
    var s = document.createElement("script");
    s.text = copy.textContent;
    (document.head || document.body).appendChild(s);
  }
  function draw() {
    var el = document.getElementById(id);
    var P = window.Plotly;
    if (el && P && typeof P.newPlot === "function") {
      var fig = JSON.parse(document.getElementById(id + "-fig").textContent);
      el.innerHTML = "";
      P.newPlot(el, fig.data, fig.layout, fig.config);
      return;
    }
    if (tries === 5) revive();
    if (++tries < maxTries) { setTimeout(draw, 100); return; }
    if (el) {
      el.innerHTML = "";
      var msg = document.createElement("div");
      msg.className = "bst-chart-error";
      msg.style.cssText = "color:#b00;border:1px solid #b00;padding:8px";
      msg.textContent = ${JSON.stringify(PLOTLY_MISSING_TEXT)};
      el.appendChild(msg);
    }
  }
  draw();
})();</script>`,
  );
  return parts.join('\n');
}

/**
 * Tracks which page already holds plotly.js: it is inlined into the first chart of each page only, and every
 * chart gets a fresh id. A page is named by `html`'s `page` option (the Jupyter client session that asked for
 * the chart: a browser reload opens a new one); '' or no name means "the page so far".
 */
export class ChartSession {
  /** the page the last embedded copy went to (undefined: none yet; '' = a page whose name was unknown) */
  private embeddedFor: string | undefined;
  private readonly ids: IdSource;
  private readonly source: () => string;

  /** `source` supplies the plotly.js text (default: the installed bundle); tests pass a stub. */
  constructor(opts: { idPrefix?: string; source?: () => string } = {}) {
    this.ids = new IdSource(opts.idPrefix);
    this.source = opts.source ?? plotlyScriptSource;
  }

  /** True once a chart carrying plotly.js was produced. */
  get plotlyEmbedded(): boolean {
    return this.embeddedFor !== undefined;
  }

  /**
   * HTML of the next chart; the first one for each page carries plotly.js. A named page after an unnamed one
   * is taken to be that same page (the name became known later), so it gets no second copy.
   */
  html(fig: Figure, opts: { name?: string; page?: string } = {}): string {
    const page = opts.page ?? '';
    let embed = false;
    if (this.embeddedFor === undefined) embed = true;
    else if (this.embeddedFor === '') this.embeddedFor = page;
    else if (page !== '' && page !== this.embeddedFor) embed = true;
    if (embed) this.embeddedFor = page;
    return chartHtml(fig, { id: this.ids.next(), plotlySource: embed ? this.source() : undefined, name: opts.name });
  }
}
