/**
 * Train/validation/test protocols over time-ordered per-user runs. Both work on run offsets only (user u's
 * ratings are positions offsets[u] .. offsets[u+1]-1, in time order) and return target positions.
 *
 * - `leave-last-k` (default, leak-free): a user with n >= 2k+1 ratings gives their last k ratings as test
 *   targets, the k before as validation targets and all earlier ones (including the very first rating, whose
 *   history is all padding) as training targets. A user with n < 2k+1 ratings gives training targets only
 *   (counted as `usersTrainOnly`). A sample's history may include earlier val/test ratings of the same user:
 *   they lie in the past at prediction time.
 * - `legacy-random-windows` (LEAKY, for comparison with the Keras BST example only): see `legacyWindows`.
 */
import { Rng } from '../util/rng';
import { ConfigError } from '../util/errors';

/** Counts every split returns (and prints when asked). */
export interface SplitCounts {
  protocol: 'leave-last-k' | 'legacy-random-windows';
  /** users with at least one rating */
  users: number;
  train: number;
  val: number;
  test: number;
  /** leave-last-k: users too short for val/test (n < 2k+1), contributing training targets only */
  usersTrainOnly: number;
  /** legacy: windows before the 85/15 split, users with no window (n < L), duplicated tail windows */
  windows?: number;
  usersWithoutWindows?: number;
  duplicateWindows?: number;
  /** true for the legacy protocol: its random windows leak future ratings into training */
  leaky: boolean;
  /** human-readable notes on the protocol */
  notes: string[];
}

/** Target positions of a split plus counts. */
export interface SplitResult {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
  counts: SplitCounts;
}

/** leave-last-k over runs given by `offsets` ([numRuns + 1]). */
export function leaveLastK(offsets: Int32Array, k: number): SplitResult {
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`k must be an integer >= 1, got ${k}`);
  const numRuns = offsets.length - 1;
  let nTrain = 0,
    nVal = 0,
    nTest = 0,
    users = 0,
    trainOnly = 0;
  for (let u = 0; u < numRuns; u++) {
    const n = offsets[u + 1] - offsets[u];
    if (n === 0) continue;
    users++;
    if (n >= 2 * k + 1) {
      nTrain += n - 2 * k;
      nVal += k;
      nTest += k;
    } else {
      nTrain += n;
      trainOnly++;
    }
  }
  const train = new Int32Array(nTrain);
  const val = new Int32Array(nVal);
  const test = new Int32Array(nTest);
  let a = 0,
    b = 0,
    c = 0;
  for (let u = 0; u < numRuns; u++) {
    const s = offsets[u];
    const e = offsets[u + 1];
    const n = e - s;
    if (n === 0) continue;
    const trainEnd = n >= 2 * k + 1 ? e - 2 * k : e;
    for (let p = s; p < trainEnd; p++) train[a++] = p;
    if (n >= 2 * k + 1) {
      for (let p = e - 2 * k; p < e - k; p++) val[b++] = p;
      for (let p = e - k; p < e; p++) test[c++] = p;
    }
  }
  return {
    train,
    val,
    test,
    counts: {
      protocol: 'leave-last-k',
      users,
      train: nTrain,
      val: nVal,
      test: nTest,
      usersTrainOnly: trainOnly,
      leaky: false,
      notes: [
        `leave-last-k (k=${k}): per user, last ${k} ratings = test, ${k} before = validation, earlier = training; ` +
          `users with fewer than ${2 * k + 1} ratings give training targets only`,
      ],
    },
  };
}

/**
 * Target positions of the Keras example's `create_sequences(values, L, step)` over one run [s, e):
 * windows start at s, s+step, ... while a full window of L fits; when the next window would be short,
 * the LAST L ratings are appended as one more window (even when that repeats the previous window) and the
 * loop stops. A run shorter than L gives no window. Each window is named by its last position (the target).
 */
export function kerasWindowTargets(s: number, e: number, L: number, step: number, out: number[]): void {
  if (e - s < L) return;
  let start = s;
  for (;;) {
    if (start + L > e) {
      out.push(e - 1); // values[-L:]
      return;
    }
    out.push(start + L - 1);
    start += step;
  }
}

/** Number of windows `kerasWindowTargets` cuts from a run of n ratings: 0 when n < L, else floor((n-L)/step)+2. */
export function kerasWindowCount(n: number, L: number, step: number): number {
  return n < L ? 0 : Math.floor((n - L) / step) + 2;
}

/**
 * legacy-random-windows (LEAKY): the Keras "A Transformer-based recommendation system" protocol. Windows of
 * L ratings with step `step` are cut over each user's time-ordered ratings (`kerasWindowTargets`), all windows
 * are shuffled with `seed` and split like sklearn's train_test_split(train_size=0.85): test = ceil(0.15 n).
 * Keras has no validation split; here `valFraction` of the training windows (seeded) become validation so
 * that models are not picked on test. Windows of one user land in train and test alike, so training windows
 * contain ratings that come AFTER test targets: numbers from this protocol overstate accuracy.
 * Differences from Keras: ties in time are broken by movieId (pandas' sort leaves their order unspecified), and
 * the shuffle is seeded (Keras' is not), so window counts match exactly but the drawn split does not.
 */
export function legacyWindows(
  offsets: Int32Array,
  opts: { seqLen: number; step: number; seed: number; trainFraction?: number; valFraction?: number },
): SplitResult {
  const { seqLen: L, step, seed } = opts;
  const trainFraction = opts.trainFraction ?? 0.85;
  const valFraction = opts.valFraction ?? 0.1;
  if (!Number.isInteger(L) || L < 2) throw new ConfigError(`seqLen must be an integer >= 2, got ${L}`);
  if (!Number.isInteger(step) || step < 1) throw new ConfigError(`step must be an integer >= 1, got ${step}`);
  if (!(trainFraction > 0 && trainFraction < 1))
    throw new ConfigError(`trainFraction must be in (0, 1), got ${trainFraction}`);
  if (!(valFraction >= 0 && valFraction < 1))
    throw new ConfigError(`valFraction must be in [0, 1), got ${valFraction}`);
  const numRuns = offsets.length - 1;
  const targets: number[] = [];
  let users = 0,
    noWindow = 0,
    dup = 0;
  for (let u = 0; u < numRuns; u++) {
    const s = offsets[u],
      e = offsets[u + 1];
    if (e === s) continue;
    users++;
    const before = targets.length;
    kerasWindowTargets(s, e, L, step, targets);
    if (targets.length === before) noWindow++;
    else if (targets.length - before >= 2 && targets[targets.length - 1] === targets[targets.length - 2]) dup++;
  }
  const all = Int32Array.from(targets);
  const rng = new Rng(seed);
  rng.shuffle(all);
  const n = all.length;
  const nTrainAll = Math.floor(trainFraction * n);
  const nVal = Math.round(valFraction * nTrainAll);
  // after the shuffle: [0, nTrainAll) training pool, of which the first nVal are validation; rest test
  const sortAsc = (a: Int32Array) => a.sort();
  const val = sortAsc(all.slice(0, nVal));
  const train = sortAsc(all.slice(nVal, nTrainAll));
  const test = sortAsc(all.slice(nTrainAll));
  return {
    train,
    val,
    test,
    counts: {
      protocol: 'legacy-random-windows',
      users,
      train: train.length,
      val: val.length,
      test: test.length,
      usersTrainOnly: 0,
      windows: n,
      usersWithoutWindows: noWindow,
      duplicateWindows: dup,
      leaky: true,
      notes: [
        `LEAKY legacy-random-windows (Keras BST example): windows of ${L} with step ${step} over each user's ratings, ` +
          `shuffled (seed ${seed}) into ${Math.round(trainFraction * 100)}/${Math.round((1 - trainFraction) * 100)} train/test; ` +
          `training windows contain ratings later than test targets, so scores overstate real accuracy`,
        `validation = ${valFraction} of the training windows (not in the Keras example, which has no validation split)`,
      ],
    },
  };
}

/** One-line summary of split counts. */
export function formatSplitCounts(c: SplitCounts): string {
  let s = `${c.protocol}${c.leaky ? ' (LEAKY)' : ''}: ${c.users} users, train ${c.train}, val ${c.val}, test ${c.test} targets`;
  if (c.protocol === 'leave-last-k') s += `, ${c.usersTrainOnly} users with training targets only`;
  else
    s += `, ${c.windows} windows (${c.duplicateWindows} duplicated tail windows), ${c.usersWithoutWindows} users without a window`;
  return s + '\n  ' + c.notes.join('\n  ');
}
