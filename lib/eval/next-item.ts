/**
 * Next-item evaluation: which movie does a user watch next, ranked against the whole catalogue.
 *
 * Two protocols build a NextItemSplit from raw (userId, movieId, timestamp) events:
 *
 * - `leaveOneOutSplit`: per user in time order (ties by timestamp, then movieId), the last event is the test
 *   target, the one before the validation target, the rest training. The input of a target is the user's
 *   sequence before it (validation: the training events; test: training events + the validation item). Users
 *   with fewer than 3 events only contribute training events.
 * - `globalTimeSplit`: one cut-off timestamp for everyone, so no training event comes from the test period.
 *   testCut = the timestamp at quantile `testQuantile` of all events, valCut at `valQuantile` (< testCut).
 *   Test phase: fit = every event with timestamp < testCut; the test users are those with at least one event
 *   before and one at/after testCut; target = their first event at/after testCut (ties by movieId); input = all
 *   their events before testCut. Validation phase: the same with valCut, fit = events < valCut, targets = each
 *   user's first event in [valCut, testCut).
 *
 * Item indices: 1..numItems-1 are the movies that occur in the test phase's fit events (leave-one-out: the
 * training part), 0 is padding/unknown and never a candidate. A target whose movie never occurs there is
 * index 0 and counts as a miss (rank Infinity); unknown movies are dropped from inputs.
 *
 * Metrics (`evaluateNextItem`): full ranking over the catalogue with the user's already-seen items (the input)
 * excluded and the target kept. Ties rank pessimistically: rank = 1 + #candidates scoring strictly higher +
 * #other candidates scoring equal. HR@10, HR@20, NDCG@10, MRR@10 (1/rank if rank <= 10, else 0), coverage@10
 * (distinct items over all top-10 lists / (numItems - 1)) and novelty (mean self-information -log2 p(i) of the
 * recommended top-10 items, p(i) = training events of i / training users, floored at one event). An optional
 * sampled-100-negatives variant exists ONLY to compare with papers that report it; it overstates quality.
 */
import { ConfigError, DataError } from '../util/errors';
import { Rng } from '../util/rng';

/** Raw events: parallel columns of equal length (e.g. from a Dataset's ratings table, see `eventsFromTable`). */
export interface RawEvents {
  userId: ArrayLike<number>;
  movieId: ArrayLike<number>;
  timestamp: ArrayLike<number>;
}

/** Per-user item sequences (item indices, time order) with their timestamps. */
export interface SequenceSet {
  /** raw userId of each sequence */
  users: Int32Array;
  items: Int32Array[];
  times: Float64Array[];
}

/** One held-out target with the input sequence a model sees. */
export interface NextItemCase {
  /** raw userId */
  user: number;
  /** item indices before the target, time order (unknown items dropped); also the items excluded from ranking */
  input: Int32Array;
  /** the target's item index (0 = unknown to the catalogue: a miss) */
  target: number;
  /** the target's timestamp */
  time: number;
}

/** Fit data and held-out cases of one phase (validation or test). */
export interface NextItemPhase {
  /** what a model may be fitted on when evaluated on this phase */
  fit: SequenceSet;
  cases: NextItemCase[];
  /** global-time protocol: the cut-off (every fit event is strictly before it) */
  cut?: number;
}

/** A next-item split: catalogue plus validation and test phases. */
export interface NextItemSplit {
  protocol: 'leave-one-out' | 'global-time';
  /** raw movieId per item index (index 0 = padding/unknown, movieId -1) */
  itemIds: Int32Array;
  /** itemIds.length: catalogue size including index 0 */
  numItems: number;
  val: NextItemPhase;
  test: NextItemPhase;
}

/**
 * Scores a batch of input sequences (item indices, time order): returns [inputs.length * numItems] scores,
 * row-major, higher = more likely next. Any model plugs in through this.
 */
export type NextItemScorer = (inputs: Int32Array[]) => Float32Array;

/** Read the userId, movieId and timestamp columns of a Dataset's ratings table (anything with `array(name)`). */
export function eventsFromTable(t: { array(name: string): ArrayLike<unknown> }): RawEvents {
  return {
    userId: t.array('userId') as ArrayLike<number>,
    movieId: t.array('movieId') as ArrayLike<number>,
    timestamp: t.array('timestamp') as ArrayLike<number>,
  };
}

/** Event order: by user, then timestamp, then movieId. Throws a DataError on ragged columns or a NaN. */
function sortedEvents(e: RawEvents): Int32Array {
  const n = e.userId.length;
  if (e.movieId.length !== n || e.timestamp.length !== n) {
    throw new DataError(
      `next-item events: columns differ in length (userId ${n}, movieId ${e.movieId.length}, timestamp ${e.timestamp.length})`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(e.timestamp[i]))
      throw new DataError(`next-item events: row ${i} has timestamp ${e.timestamp[i]}`);
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => e.userId[a] - e.userId[b] || e.timestamp[a] - e.timestamp[b] || e.movieId[a] - e.movieId[b]);
  return order;
}

/** Per-user runs [start, end) of a sorted order. */
function userRuns(e: RawEvents, order: Int32Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let s = 0;
  for (let p = 1; p <= order.length; p++) {
    if (p === order.length || e.userId[order[p]] !== e.userId[order[s]]) {
      runs.push([s, p]);
      s = p;
    }
  }
  return order.length === 0 ? [] : runs;
}

/** Item vocabulary over the movies of the given event rows (ascending movieId); index 0 = unknown. */
function buildVocab(e: RawEvents, rows: Iterable<number>): { itemIds: Int32Array; index: Map<number, number> } {
  const ids = new Set<number>();
  for (const r of rows) ids.add(e.movieId[r]);
  const sorted = Array.from(ids).sort((a, b) => a - b);
  const index = new Map<number, number>();
  sorted.forEach((id, j) => index.set(id, j + 1));
  return { itemIds: Int32Array.from([-1, ...sorted]), index };
}

function toIndices(
  e: RawEvents,
  order: Int32Array,
  from: number,
  to: number,
  index: Map<number, number>,
): { items: Int32Array; times: Float64Array } {
  const items: number[] = [];
  const times: number[] = [];
  for (let p = from; p < to; p++) {
    const j = index.get(e.movieId[order[p]]);
    if (j === undefined) continue;
    items.push(j);
    times.push(e.timestamp[order[p]]);
  }
  return { items: Int32Array.from(items), times: Float64Array.from(times) };
}

/** Leave-one-out next-item split (see the module comment). */
export function leaveOneOutSplit(e: RawEvents): NextItemSplit {
  const order = sortedEvents(e);
  const runs = userRuns(e, order);
  const trainRows: number[] = [];
  for (const [s, t] of runs) {
    const end = t - s >= 3 ? t - 2 : t;
    for (let p = s; p < end; p++) trainRows.push(order[p]);
  }
  const { itemIds, index } = buildVocab(e, trainRows);
  const fit: SequenceSet = { users: new Int32Array(0), items: [], times: [] };
  const fitUsers: number[] = [];
  const val: NextItemCase[] = [];
  const test: NextItemCase[] = [];
  for (const [s, t] of runs) {
    const user = e.userId[order[s]];
    const n = t - s;
    const end = n >= 3 ? t - 2 : t;
    const tr = toIndices(e, order, s, end, index);
    if (tr.items.length > 0) {
      fitUsers.push(user);
      fit.items.push(tr.items);
      fit.times.push(tr.times);
    }
    if (n < 3) continue;
    const vRow = order[t - 2];
    const tRow = order[t - 1];
    const vItem = index.get(e.movieId[vRow]) ?? 0;
    val.push({ user, input: tr.items, target: vItem, time: e.timestamp[vRow] });
    const testInput = vItem > 0 ? Int32Array.from([...tr.items, vItem]) : tr.items;
    test.push({ user, input: testInput, target: index.get(e.movieId[tRow]) ?? 0, time: e.timestamp[tRow] });
  }
  fit.users = Int32Array.from(fitUsers);
  return {
    protocol: 'leave-one-out',
    itemIds,
    numItems: itemIds.length,
    val: { fit, cases: val },
    test: { fit, cases: test },
  };
}

/** Options of globalTimeSplit. */
export interface GlobalTimeSplitOptions {
  /** quantile of all event timestamps where validation starts (default 0.9) */
  valQuantile?: number;
  /** quantile of all event timestamps where the test period starts (default 0.95) */
  testQuantile?: number;
}

/** The timestamp at quantile q of the sorted timestamps (the value at index floor(q * n), clamped). */
export function timestampQuantile(sortedTimes: ArrayLike<number>, q: number): number {
  const n = sortedTimes.length;
  if (n === 0) throw new DataError('timestampQuantile: no events');
  return sortedTimes[Math.min(n - 1, Math.max(0, Math.floor(q * n)))];
}

/** Global-time next-item split (see the module comment); no fit event is at or after its phase's cut. */
export function globalTimeSplit(e: RawEvents, opts: GlobalTimeSplitOptions = {}): NextItemSplit {
  const qv = opts.valQuantile ?? 0.9;
  const qt = opts.testQuantile ?? 0.95;
  if (!(qv > 0 && qv < qt && qt < 1)) {
    throw new ConfigError(
      `globalTimeSplit: need 0 < valQuantile < testQuantile < 1, got valQuantile ${qv}, testQuantile ${qt}`,
    );
  }
  const order = sortedEvents(e);
  const times = Float64Array.from(e.timestamp as ArrayLike<number>).sort();
  const valCut = timestampQuantile(times, qv);
  const testCut = timestampQuantile(times, qt);
  if (!(valCut < testCut)) {
    throw new DataError(
      `globalTimeSplit: the validation cut (${valCut}, quantile ${qv}) is not before the test cut (${testCut}, quantile ${qt})`,
    );
  }
  const runs = userRuns(e, order);
  const before: number[] = [];
  for (let p = 0; p < order.length; p++) if (e.timestamp[order[p]] < testCut) before.push(order[p]);
  const { itemIds, index } = buildVocab(e, before);
  const phase = (cut: number, end: number): NextItemPhase => {
    const fit: SequenceSet = { users: new Int32Array(0), items: [], times: [] };
    const users: number[] = [];
    const cases: NextItemCase[] = [];
    for (const [s, t] of runs) {
      let m = s;
      while (m < t && e.timestamp[order[m]] < cut) m++;
      if (m === s) continue; // no history before the cut: not a fit user, not a case
      const seq = toIndices(e, order, s, m, index);
      users.push(e.userId[order[s]]);
      fit.items.push(seq.items);
      fit.times.push(seq.times);
      if (m < t && e.timestamp[order[m]] < end) {
        const row = order[m];
        cases.push({
          user: e.userId[row],
          input: seq.items,
          target: index.get(e.movieId[row]) ?? 0,
          time: e.timestamp[row],
        });
      }
    }
    fit.users = Int32Array.from(users);
    return { fit, cases, cut };
  };
  return {
    protocol: 'global-time',
    itemIds,
    numItems: itemIds.length,
    val: phase(valCut, testCut),
    test: phase(testCut, Infinity),
  };
}

/** Training events per item index over a sequence set: Float64Array [numItems]. */
export function itemCounts(fit: SequenceSet, numItems: number): Float64Array {
  const c = new Float64Array(numItems);
  for (const s of fit.items) for (let i = 0; i < s.length; i++) c[s[i]]++;
  return c;
}

/**
 * 1-based pessimistic rank of `target` among candidate `scores` (a row of numItems): 1 + #candidates scoring
 * strictly higher + #other candidates scoring equal. Index 0 and the `seen` items (except the target) are not
 * candidates. Target 0 (unknown) returns Infinity. Throws a ConfigError on a NaN score.
 */
export function pessimisticRank(scores: ArrayLike<number>, target: number, seen: ArrayLike<number>): number {
  const n = scores.length;
  if (target === 0) return Infinity;
  if (!(Number.isInteger(target) && target > 0 && target < n))
    throw new ConfigError(`pessimisticRank: target ${target} is outside 1..${n - 1}`);
  const s = scores[target];
  if (Number.isNaN(s)) throw new ConfigError(`pessimisticRank: the target's score (item ${target}) is NaN`);
  let above = 0;
  for (let j = 1; j < n; j++) {
    const x = scores[j];
    if (Number.isNaN(x)) throw new ConfigError(`pessimisticRank: score of item ${j} is NaN`);
    if (j !== target && x >= s) above++;
  }
  const done = new Set<number>();
  for (let t = 0; t < seen.length; t++) {
    const j = seen[t];
    if (j === target || j <= 0 || j >= n || done.has(j)) continue;
    done.add(j);
    if (scores[j] >= s) above--;
  }
  return above + 1;
}

/**
 * The k best candidates of a score row (index 0 and `seen` excluded), best first; equal scores by ascending
 * item index. Returns fewer than k when there are fewer candidates.
 */
export function nextItemTopK(scores: ArrayLike<number>, k: number, seen: ArrayLike<number>): number[] {
  const skip = new Set<number>();
  for (let t = 0; t < seen.length; t++) skip.add(seen[t]);
  const best: number[] = [];
  for (let j = 1; j < scores.length; j++) {
    if (skip.has(j)) continue;
    const x = scores[j];
    if (best.length === k && !(x > scores[best[k - 1]])) continue;
    let p = best.length === k ? k - 1 : best.length;
    while (p > 0 && x > scores[best[p - 1]]) p--;
    best.splice(p, 0, j);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Metrics of one evaluation (means over cases). */
export interface NextItemMetrics {
  cases: number;
  hr10: number;
  hr20: number;
  ndcg10: number;
  mrr10: number;
  /** distinct items over all top-10 lists / (numItems - 1) */
  coverage10: number;
  /** mean -log2 p(i) of the top-10 items, p(i) = training events of i / training users (floored at 1 event) */
  novelty: number;
  /** targets unknown to the catalogue (always misses) */
  unknownTargets: number;
  /** only when asked: rank against `negatives` sampled unseen items. For comparison with papers only. */
  sampled?: { negatives: number; hr10: number; ndcg10: number };
}

/** Options of evaluateNextItem. */
export interface EvaluateNextItemOptions {
  /** catalogue size including index 0 (a scorer must return this many scores per input) */
  numItems: number;
  /** the phase's fit sequences, for novelty's popularity */
  fit: SequenceSet;
  /** cases scored per scorer call (default 256) */
  batchSize?: number;
  /** also rank against this many uniformly sampled unseen items (papers' sampled metric; default 0 = off) */
  sampledNegatives?: number;
  /** seed of the sampled negatives (default 0) */
  seed?: number;
}

/** Evaluate a scorer on held-out cases with full ranking (see the module comment). */
export function evaluateNextItem(
  scorer: NextItemScorer,
  cases: NextItemCase[],
  o: EvaluateNextItemOptions,
): NextItemMetrics {
  const V = o.numItems;
  const bs = o.batchSize ?? 256;
  if (!(Number.isInteger(V) && V >= 2))
    throw new ConfigError(`evaluateNextItem: numItems must be an integer >= 2, got ${V}`);
  if (!(Number.isInteger(bs) && bs >= 1))
    throw new ConfigError(`evaluateNextItem: batchSize must be an integer >= 1, got ${bs}`);
  const counts = itemCounts(o.fit, V);
  const fitUsers = Math.max(1, o.fit.items.length);
  const selfInfo = new Float64Array(V);
  for (let j = 1; j < V; j++) selfInfo[j] = -Math.log2(Math.max(1, counts[j]) / fitUsers);
  const neg = o.sampledNegatives ?? 0;
  const rng = new Rng(o.seed ?? 0);
  let hr10 = 0,
    hr20 = 0,
    ndcg10 = 0,
    mrr10 = 0,
    nov = 0,
    recs = 0,
    unknown = 0,
    sHr = 0,
    sNdcg = 0;
  const covered = new Uint8Array(V);
  for (let b0 = 0; b0 < cases.length; b0 += bs) {
    const batch = cases.slice(b0, b0 + bs);
    const scores = scorer(batch.map((c) => c.input));
    if (scores.length !== batch.length * V) {
      throw new ConfigError(
        `evaluateNextItem: the scorer returned ${scores.length} scores for ${batch.length} inputs x ${V} items`,
      );
    }
    batch.forEach((c, r) => {
      const row = scores.subarray(r * V, (r + 1) * V);
      const rank = pessimisticRank(row, c.target, c.input);
      if (c.target === 0) unknown++;
      if (rank <= 10) {
        hr10++;
        ndcg10 += 1 / Math.log2(rank + 1);
        mrr10 += 1 / rank;
      }
      if (rank <= 20) hr20++;
      for (const j of nextItemTopK(row, 10, c.input)) {
        covered[j] = 1;
        nov += selfInfo[j];
        recs++;
      }
      if (neg > 0 && c.target > 0) {
        const seen = new Set<number>(Array.from(c.input));
        seen.add(c.target);
        const pool = V - 1 - seen.size + (seen.has(0) ? 1 : 0);
        const take = Math.min(neg, pool);
        const picked = new Set<number>();
        let above = 0;
        while (picked.size < take) {
          const j = 1 + rng.int(V - 1);
          if (seen.has(j) || picked.has(j)) continue;
          picked.add(j);
          if (row[j] >= row[c.target]) above++;
        }
        if (above + 1 <= 10) {
          sHr++;
          sNdcg += 1 / Math.log2(above + 2);
        }
      }
    });
  }
  const n = Math.max(1, cases.length);
  let cov = 0;
  for (let j = 1; j < V; j++) cov += covered[j];
  const out: NextItemMetrics = {
    cases: cases.length,
    hr10: hr10 / n,
    hr20: hr20 / n,
    ndcg10: ndcg10 / n,
    mrr10: mrr10 / n,
    coverage10: cov / (V - 1),
    novelty: recs > 0 ? nov / recs : 0,
    unknownTargets: unknown,
  };
  if (neg > 0) out.sampled = { negatives: neg, hr10: sHr / n, ndcg10: sNdcg / n };
  return out;
}
