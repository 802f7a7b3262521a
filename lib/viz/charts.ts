/**
 * Pure builders of common figures (bar, histogram, lines with error bars, heatmap). Each returns a `Figure`
 * for `plot`/`chartHtml`; nothing here touches the notebook.
 */
import { Figure, Layout, Trace } from './plotly';

/** Axis options shared by the builders. */
export interface AxisOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** log-scale axes */
  logX?: boolean;
  logY?: boolean;
  height?: number;
  /** extra layout fields merged last */
  layout?: Layout;
}

function axes(o: AxisOptions): Layout {
  const layout: Layout = {
    title: o.title ?? '',
    xaxis: { title: { text: o.xTitle ?? '' }, ...(o.logX ? { type: 'log' } : {}) },
    yaxis: { title: { text: o.yTitle ?? '' }, ...(o.logY ? { type: 'log' } : {}) },
  };
  if (o.height !== undefined) layout.height = o.height;
  return { ...layout, ...(o.layout ?? {}) };
}

/** Bar chart of labelled values. `horizontal` puts the labels on the y axis. */
export function barFigure(
  labels: Array<string | number>,
  values: ArrayLike<number>,
  opts: AxisOptions & { horizontal?: boolean; text?: string[]; color?: string } = {},
): Figure {
  if (labels.length !== values.length)
    throw new Error(`barFigure: ${labels.length} labels but ${values.length} values`);
  const v = Array.from(values);
  const trace: Trace = opts.horizontal
    ? { type: 'bar', orientation: 'h', y: labels, x: v }
    : { type: 'bar', x: labels, y: v };
  if (opts.text) trace.text = opts.text;
  if (opts.color) trace.marker = { color: opts.color };
  const layout = axes(opts);
  if (opts.horizontal) layout.yaxis = { ...(layout.yaxis as object), automargin: true, autorange: 'reversed' };
  else layout.xaxis = { ...(layout.xaxis as object), type: typeof labels[0] === 'number' ? 'linear' : 'category' };
  return { data: [trace], layout };
}

/** Several named bar series over the same labels (grouped). */
export function groupedBarFigure(
  labels: Array<string | number>,
  series: Array<{ name: string; values: ArrayLike<number> }>,
  opts: AxisOptions = {},
): Figure {
  const data = series.map((s) => {
    if (s.values.length !== labels.length)
      throw new Error(`groupedBarFigure: series ${s.name} has ${s.values.length} values for ${labels.length} labels`);
    return { type: 'bar', name: s.name, x: labels, y: Array.from(s.values) } as Trace;
  });
  return { data, layout: { ...axes(opts), barmode: 'group' } };
}

/**
 * Pre-binned histogram: `edges` has one more entry than `counts`; bars span [edges[i], edges[i+1]).
 * Log-spaced edges with `logX` give the usual long-tail picture.
 */
export function binnedFigure(edges: ArrayLike<number>, counts: ArrayLike<number>, opts: AxisOptions = {}): Figure {
  if (edges.length !== counts.length + 1)
    throw new Error(`binnedFigure: ${edges.length} edges for ${counts.length} counts (need counts + 1)`);
  const x: number[] = [];
  const width: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    const a = edges[i];
    const b = edges[i + 1];
    x.push(opts.logX ? Math.sqrt(a * b) : (a + b) / 2);
    width.push(b - a);
  }
  const trace: Trace = opts.logX
    ? {
        type: 'scatter',
        mode: 'lines',
        line: { shape: 'hv' },
        fill: 'tozeroy',
        x: Array.from(edges),
        y: [...Array.from(counts), counts[counts.length - 1] ?? 0],
      }
    : { type: 'bar', x, y: Array.from(counts), width };
  return { data: [trace], layout: { ...axes(opts), bargap: 0 } };
}

/** One line series, optionally with symmetric error bars. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number | string>;
  y: ArrayLike<number>;
  /** half-width of the error bar at each point (e.g. a standard deviation) */
  error?: ArrayLike<number>;
  /** plotly mode (default 'lines+markers') */
  mode?: string;
  /** 'y2' puts the series on a second y axis on the right */
  yaxis?: 'y' | 'y2';
  dash?: string;
}

/** Lines (with error bars where given) sharing an x axis; `y2Title` names the right axis. */
export function lineFigure(series: LineSeries[], opts: AxisOptions & { y2Title?: string } = {}): Figure {
  const data = series.map((s) => {
    if (s.x.length !== s.y.length)
      throw new Error(`lineFigure: series ${s.name} has ${s.x.length} x but ${s.y.length} y values`);
    const t: Trace = {
      type: 'scatter',
      mode: s.mode ?? 'lines+markers',
      name: s.name,
      x: Array.from(s.x),
      y: Array.from(s.y),
    };
    if (s.error) t.error_y = { type: 'data', array: Array.from(s.error), visible: true };
    if (s.yaxis === 'y2') t.yaxis = 'y2';
    if (s.dash) t.line = { dash: s.dash };
    return t;
  });
  const layout = axes(opts);
  if (series.some((s) => s.yaxis === 'y2')) {
    // automargin + a right margin wide enough for the tick labels and the axis title (the default 20 px cut them)
    layout.yaxis2 = { title: { text: opts.y2Title ?? '' }, overlaying: 'y', side: 'right', automargin: true };
    layout.legend = { orientation: 'h', y: -0.2 };
    layout.margin = { ...((layout.margin as object | undefined) ?? {}), r: 80 };
  }
  return { data, layout };
}

/** Heatmap options: labels of rows (y) and columns (x); labels may repeat (titles of one movie twice). */
export interface HeatmapOptions extends AxisOptions {
  xLabels?: string[];
  yLabels?: string[];
  colorscale?: string;
  /** write each cell's value in it, with this many decimals */
  annotate?: number;
  zmin?: number;
  zmax?: number;
}

/**
 * Heatmap of a row-major matrix z[rows][cols]. Axes are numeric positions with the labels as tick text, so
 * repeated labels stay separate rows/columns (a categorical axis would merge them). Row 0 is drawn on top.
 */
export function heatmapFigure(z: number[][], opts: HeatmapOptions = {}): Figure {
  const rows = z.length;
  const cols = rows ? z[0].length : 0;
  for (const r of z)
    if (r.length !== cols) throw new Error(`heatmapFigure: ragged matrix (rows of ${cols} and ${r.length})`);
  if (opts.xLabels && opts.xLabels.length !== cols)
    throw new Error(`heatmapFigure: ${opts.xLabels.length} x labels for ${cols} columns`);
  if (opts.yLabels && opts.yLabels.length !== rows)
    throw new Error(`heatmapFigure: ${opts.yLabels.length} y labels for ${rows} rows`);
  const xs = Array.from({ length: cols }, (_, i) => i);
  const ys = Array.from({ length: rows }, (_, i) => i);
  const trace: Trace = { type: 'heatmap', z, x: xs, y: ys, colorscale: opts.colorscale ?? 'Blues' };
  if (opts.zmin !== undefined) trace.zmin = opts.zmin;
  if (opts.zmax !== undefined) trace.zmax = opts.zmax;
  if (opts.xLabels)
    trace.customdata = z.map((r, i) => r.map((_, j) => [opts.yLabels?.[i] ?? String(i), opts.xLabels![j]]));
  if (opts.xLabels || opts.yLabels)
    trace.hovertemplate = 'row: %{customdata[0]}<br>column: %{customdata[1]}<br>value: %{z:.3f}<extra></extra>';
  if (!opts.xLabels && opts.yLabels) trace.customdata = z.map((r, i) => r.map((_, j) => [opts.yLabels![i], String(j)]));
  const layout = axes(opts);
  layout.xaxis = {
    ...(layout.xaxis as object),
    tickmode: 'array',
    tickvals: xs,
    ticktext: opts.xLabels ?? xs.map(String),
    tickangle: -40,
    automargin: true,
  };
  layout.yaxis = {
    ...(layout.yaxis as object),
    tickmode: 'array',
    tickvals: ys,
    ticktext: opts.yLabels ?? ys.map(String),
    autorange: 'reversed',
    automargin: true,
  };
  if (opts.annotate !== undefined) {
    const digits = opts.annotate;
    layout.annotations = z.flatMap((r, i) =>
      r.map((v, j) => ({
        x: j,
        y: i,
        text: Number.isFinite(v) ? v.toFixed(digits) : '',
        showarrow: false,
        font: { size: 10 },
      })),
    );
  }
  return { data: [trace], layout };
}

/** One point of a relevance / diversity trade-off: a re-ranking weight and what the lists it gives achieve. */
export interface TradeoffPoint {
  /** MMR weight of relevance (1 = plain top-k) */
  lambda: number;
  /** intra-list diversity of the lists (x) */
  diversity: number;
  /** the accuracy the lists keep, e.g. HR@10 (y) */
  accuracy: number;
}

/**
 * Accuracy against diversity over a re-ranking weight, one curve per model, each point labelled with its
 * lambda: what diversity costs, read off one chart. Points are drawn in order of falling lambda. Pure.
 */
export function tradeoffFigure(
  curves: Array<{ name: string; points: TradeoffPoint[] }>,
  opts: AxisOptions = {},
): Figure {
  const data = curves.map((c) => {
    const pts = [...c.points].sort((a, b) => b.lambda - a.lambda);
    return {
      type: 'scatter',
      mode: 'lines+markers+text',
      name: c.name,
      x: pts.map((p) => p.diversity),
      y: pts.map((p) => p.accuracy),
      text: pts.map((p) => `\u03bb ${p.lambda}`),
      textposition: 'top center',
      hovertemplate: `${c.name}<br>%{text}<br>diversity %{x:.3f}<br>accuracy %{y:.3f}<extra></extra>`,
    } as Trace;
  });
  return { data, layout: axes({ xTitle: 'intra-list diversity', yTitle: 'accuracy', ...opts }) };
}
