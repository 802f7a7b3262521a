/**
 * Views of how behaviour sequences are built (notebook 02): one user's timeline, the windows cut from it with
 * their split, and how much the legacy random-window protocol leaks. Read-only over `PreparedData`.
 */
import type { PreparedData } from '../data/prepare';
import { Figure } from './plotly';

/** A sample's split. */
export type Role = 'train' | 'val' | 'test';
const ROLES: Role[] = ['train', 'val', 'test'];

/** Run (user) index of every position, from run offsets. */
function runOfPositions(offsets: Int32Array): Int32Array {
  const n = offsets[offsets.length - 1];
  const out = new Int32Array(n);
  for (let r = 0; r + 1 < offsets.length; r++) out.fill(r, offsets[r], offsets[r + 1]);
  return out;
}

/** Target positions of split `role` that fall in [s, e), in order (duplicates kept). */
function targetsIn(data: PreparedData, role: Role, s: number, e: number): number[] {
  const a = data.positions(role);
  // a is sorted ascending: binary search the first >= s
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < a.length && a[i] < e; i++) out.push(a[i]);
  return out;
}

/**
 * A user (run index) whose number of ratings lies in [minRatings, maxRatings] and has validation and test
 * targets; the one closest to the middle of the range. Throws when none qualifies.
 */
export function pickExampleUser(data: PreparedData, opts: { minRatings: number; maxRatings: number }): number {
  const off = data.interactions.userOffsets;
  const target = (opts.minRatings + opts.maxRatings) / 2;
  let best = -1;
  let bestGap = Infinity;
  const testRun = new Uint8Array(off.length);
  const runOf = runOfPositions(off);
  for (const p of data.positions('test')) testRun[runOf[p]] = 1;
  for (let r = 1; r + 1 < off.length; r++) {
    const n = off[r + 1] - off[r];
    if (n < opts.minRatings || n > opts.maxRatings || !testRun[r]) continue;
    const gap = Math.abs(n - target);
    if (gap < bestGap) ((best = r), (bestGap = gap));
  }
  if (best < 0) throw new Error(`no user with ${opts.minRatings}..${opts.maxRatings} ratings and a test target`);
  return best;
}

/** One rating of a user's timeline with the role(s) its position plays as a target. */
export interface TimelineRow {
  pos: number;
  /** UTC time to the second (YYYY-MM-DD HH:MM:SS) */
  date: string;
  movieId: number;
  title: string;
  rating: number;
  /** splits in which this position is a target ('' = never a target, e.g. no window ends here) */
  targetOf: string;
  /** how many of the user's ratings carry this exact timestamp (1 = no tie; MovieLens orders ties arbitrarily) */
  sameTime: number;
}

/** A user's ratings in time order with the split(s) each position is a target of. */
export function userTimeline(data: PreparedData, run: number, titles?: Map<number, string>): TimelineRow[] {
  const off = data.interactions.userOffsets;
  const s = off[run];
  const e = off[run + 1];
  const roles = new Map<number, Role[]>();
  for (const role of ROLES) for (const p of targetsIn(data, role, s, e)) roles.set(p, [...(roles.get(p) ?? []), role]);
  const perSecond = new Map<number, number>();
  for (let p = s; p < e; p++)
    perSecond.set(data.interactions.timestamp[p], (perSecond.get(data.interactions.timestamp[p]) ?? 0) + 1);
  const rows: TimelineRow[] = [];
  for (let p = s; p < e; p++) {
    const movieId = (data.vocabs.item.value(data.interactions.item[p]) as number | undefined) ?? 0;
    rows.push({
      pos: p - s,
      date: new Date(data.interactions.timestamp[p] * 1000).toISOString().slice(0, 19).replace('T', ' '),
      movieId,
      title: movieId ? (titles?.get(movieId) ?? `movie ${movieId}`) : '(movie unseen in training)',
      rating: data.interactions.rating[p],
      targetOf: (roles.get(p) ?? []).join('+'),
      sameTime: perSecond.get(data.interactions.timestamp[p]) ?? 1,
    });
  }
  return rows;
}

/** How a timeline's ratings tie: ratings sharing their timestamp with another, and the largest such group. */
export function timelineTies(rows: TimelineRow[]): { tied: number; groups: number; largest: number } {
  const sizes = new Map<string, number>();
  for (const r of rows) sizes.set(r.date, r.sameTime);
  let groups = 0;
  let largest = 1;
  for (const n of sizes.values()) if (n > 1) ((groups += 1), (largest = Math.max(largest, n)));
  return { tied: rows.filter((r) => r.sameTime > 1).length, groups, largest };
}

/**
 * A user's ratings in time, one trace per target split, with ties shown: ratings that share a timestamp are
 * stacked (each a little above the previous at the same time and rating) and drawn as diamonds, their hover
 * says how many share that second, and the title says how many ratings tie. Pure.
 */
export function timelineFigure(
  rows: TimelineRow[],
  opts: { title?: string; colours?: Record<string, string> } = {},
): Figure {
  const colours = { train: '#2171b5', val: '#fd8d3c', test: '#d62728', '': '#999999', ...(opts.colours ?? {}) };
  // stack ratings with the same time and value so none hides another
  const seen = new Map<string, number>();
  const offset = rows.map((r) => {
    const key = `${r.date}|${r.rating}`;
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    return i * 0.12;
  });
  const groups: Array<{ role: string; name: string }> = [
    ...ROLES.map((role) => ({ role: role as string, name: `${role} target` })),
    { role: '', name: 'not a target' },
  ];
  const data = groups.flatMap(({ role, name }) => {
    const idx = rows.map((r, i) => (r.targetOf.split('+')[0] === role ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) return [];
    return [
      {
        type: 'scatter',
        mode: 'markers',
        name,
        x: idx.map((i) => rows[i].date),
        y: idx.map((i) => rows[i].rating + offset[i]),
        text: idx.map(
          (i) =>
            `${rows[i].title} (rated ${rows[i].rating})` +
            (rows[i].sameTime > 1 ? `<br>tie: ${rows[i].sameTime} ratings at ${rows[i].date}` : ''),
        ),
        hovertemplate: '%{text}<extra>%{fullData.name}</extra>',
        marker: {
          size: 10,
          color: colours[role as keyof typeof colours],
          symbol: idx.map((i) => (rows[i].sameTime > 1 ? 'diamond' : 'circle')),
          line: { width: 1, color: 'white' },
        },
      },
    ];
  });
  const t = timelineTies(rows);
  const note =
    t.tied > 0
      ? `${t.tied} of ${rows.length} ratings share their timestamp (to the second) with another: ${t.groups} tie group(s), the largest ${t.largest} (diamonds, stacked)`
      : `no two of the ${rows.length} ratings share a timestamp`;
  return {
    data,
    layout: {
      title: { text: `${opts.title ?? 'Ratings in time'}<br><sub>${note}</sub>` },
      xaxis: { title: { text: 'time (UTC)' } },
      yaxis: { title: { text: 'rating' }, dtick: 1 },
      margin: { t: 70 },
    },
  };
}

/** Cell codes of `windowGrid`. */
export const WINDOW_CODES = { empty: 0, history: 1, train: 2, val: 3, test: 4 } as const;

/**
 * The samples (windows) of one user as a grid: one row per sample in split order (train, val, test; by target
 * position), one column per rating of the user. A cell is 1 where the sample's history covers the rating and
 * 2/3/4 at its train/val/test target (`WINDOW_CODES`). Duplicated windows appear as repeated rows.
 */
export function windowGrid(
  data: PreparedData,
  run: number,
  opts: { maxRows?: number } = {},
): { z: number[][]; rowLabels: string[]; roles: Role[] } {
  const off = data.interactions.userOffsets;
  const s = off[run];
  const e = off[run + 1];
  const L = data.seqLen;
  const z: number[][] = [];
  const rowLabels: string[] = [];
  const roles: Role[] = [];
  for (const role of ROLES) {
    for (const p of targetsIn(data, role, s, e)) {
      const row = new Array(e - s).fill(0);
      for (let q = Math.max(s, p - L + 1); q < p; q++) row[q - s] = WINDOW_CODES.history;
      row[p - s] = WINDOW_CODES[role];
      z.push(row);
      rowLabels.push(`${role} -> #${p - s}`);
      roles.push(role);
    }
  }
  const max = opts.maxRows ?? Infinity;
  return z.length > max
    ? { z: z.slice(0, max), rowLabels: rowLabels.slice(0, max), roles: roles.slice(0, max) }
    : { z, rowLabels, roles };
}

/** A heatmap figure of a `windowGrid` with a discrete legend-like colour scale. */
export function windowGridFigure(
  grid: { z: number[][]; rowLabels: string[] },
  opts: { title?: string; height?: number } = {},
): Figure {
  const cols = grid.z[0]?.length ?? 0;
  // discrete colours at the 5 codes 0..4
  const colours = ['#ffffff', '#c6dbef', '#2171b5', '#fd8d3c', '#d62728'];
  const colorscale: Array<[number, string]> = [];
  colours.forEach((c, i) => colorscale.push([i / 5, c], [(i + 1) / 5, c]));
  return {
    data: [
      {
        type: 'heatmap',
        z: grid.z,
        x: Array.from({ length: cols }, (_, i) => i),
        y: grid.rowLabels.map((_, i) => i),
        zmin: -0.5,
        zmax: 4.5,
        colorscale,
        xgap: 1,
        ygap: 1,
        customdata: grid.z.map((r, i) => r.map(() => grid.rowLabels[i])),
        hovertemplate: 'sample %{customdata}<br>rating #%{x}<extra></extra>',
        colorbar: {
          tickmode: 'array',
          tickvals: [0, 1, 2, 3, 4],
          ticktext: ['-', 'history', 'train target', 'val target', 'test target'],
        },
      },
    ],
    layout: {
      title: opts.title ?? '',
      height: opts.height ?? Math.min(900, 120 + 14 * grid.z.length),
      xaxis: { title: { text: "position in the user's time-ordered ratings" } },
      yaxis: {
        tickmode: 'array',
        tickvals: grid.rowLabels.map((_, i) => i),
        ticktext: grid.rowLabels,
        autorange: 'reversed',
        automargin: true,
      },
    },
  };
}

/** How much training sees of the test targets. */
export interface LeakageReport {
  protocol: string;
  testTargets: number;
  /** test targets whose own rating lies inside some training window (history or target) */
  testTargetInTrainWindow: number;
  /** test targets of users whose training windows contain a rating made AFTER the test target */
  trainSeesLaterRatings: number;
  /** test windows identical to a training window (same user, same target position) */
  testWindowsDuplicatedInTrain: number;
  /** training windows that occur more than once */
  duplicateTrainWindows: number;
  shareTargetInTrain: number;
  shareTrainSeesLater: number;
}

/**
 * Measure leakage of a split on its own data: for every test target, is its rating inside a training window
 * (the model was trained on the answer), do the user's training windows reach past it in time, and is the
 * very same window in training. Windows span L positions ending at their target.
 */
export function leakageReport(data: PreparedData): LeakageReport {
  const off = data.interactions.userOffsets;
  const L = data.seqLen;
  const runOf = runOfPositions(off);
  const n = off[off.length - 1];
  const covered = new Uint8Array(n);
  const trainCount = new Map<number, number>();
  const lastCovered = new Int32Array(off.length).fill(-1);
  for (const t of data.positions('train')) {
    const r = runOf[t];
    for (let q = Math.max(off[r], t - L + 1); q <= t; q++) covered[q] = 1;
    if (t > lastCovered[r]) lastCovered[r] = t;
    trainCount.set(t, (trainCount.get(t) ?? 0) + 1);
  }
  let inTrain = 0;
  let later = 0;
  let dupTest = 0;
  const test = data.positions('test');
  for (const p of test) {
    if (covered[p]) inTrain++;
    if (lastCovered[runOf[p]] > p) later++;
    if (trainCount.has(p)) dupTest++;
  }
  let dupTrain = 0;
  for (const c of trainCount.values()) if (c > 1) dupTrain += c - 1;
  const T = test.length;
  return {
    protocol: data.split.protocol,
    testTargets: T,
    testTargetInTrainWindow: inTrain,
    trainSeesLaterRatings: later,
    testWindowsDuplicatedInTrain: dupTest,
    duplicateTrainWindows: dupTrain,
    shareTargetInTrain: T ? inTrain / T : 0,
    shareTrainSeesLater: T ? later / T : 0,
  };
}
