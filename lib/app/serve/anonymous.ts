/**
 * Scoring a history that belongs to no known user (the page's "movies you liked", or any anonymous request).
 *
 * The BST's inputs are the history sequence (items, ratings, time gaps), the candidate and its features, and
 * the user features (user id embedding, demographics). A visitor has only the first two. The choice here: the
 * visitor gets the model's own "unknown user" slots -- user index 0 and demographic index 0, exactly what a
 * user missing from the training vocabulary gets in `candidateSamplesAt` (`u < numUsers ? u : 0`) -- so the
 * score comes from the sequence part and the item features, with a fixed, user-independent user-feature
 * offset. No weights are changed and no "average user" is invented.
 *
 * The picks form the history in the order given (oldest first, the model sees the last L-1), rated
 * `DEFAULT_ANONYMOUS_RATING` unless ratings are given, all at time "now" (time gap 0: just rated on the page).
 *
 * Mechanics: `anonymousView` returns a PreparedData sharing the real one's vocabularies, sizes and item
 * features, whose interactions hold one run -- the visitor's, at run index `anonymousRun(data)`, which is at
 * least numUsers so it maps to user slot 0 -- and whose user feature tables say 0 for it. Every scorer of
 * lib/recommend (shared-history exact scores, two-stage, occlusion explanations) then works on it unchanged.
 */
import { PreparedData } from '../../data/index';
import { DataError } from '../../util/errors';
import { HistoryCut } from '../../recommend/index';

/** Rating given to an anonymous pick without an explicit rating ("a movie you liked"). */
export const DEFAULT_ANONYMOUS_RATING = 4;

/** The run index an anonymous visitor gets in an anonymous view: past every real run and >= numUsers. */
export function anonymousRun(data: PreparedData): number {
  return Math.max(data.sizes.numUsers, data.interactions.userOffsets.length - 1);
}

/** What `anonymousView` returns: the view and the cut to score "now" from the visitor's history. */
export interface AnonymousView {
  data: PreparedData;
  cut: HistoryCut;
}

/** Per-base-data user feature tables with a trailing 0 (unknown) slot for the anonymous run (built once). */
const paddedFeatures = new WeakMap<PreparedData, PreparedData['features']>();

function featuresWithAnonymous(data: PreparedData): PreparedData['features'] {
  let f = paddedFeatures.get(data);
  if (!f) {
    const A = anonymousRun(data);
    const pad = (a: Int32Array) => {
      const out = new Int32Array(A + 1); // [numRuns'] index A = unknown (0)
      out.set(a.subarray(0, Math.min(a.length, A)));
      return out;
    };
    const src = data.features;
    f = {
      ...src,
      userGender: pad(src.userGender),
      userAge: pad(src.userAge),
      userOccupation: pad(src.userOccupation),
      userZip: pad(src.userZip),
    };
    paddedFeatures.set(data, f);
  }
  return f;
}

/**
 * A view of `data` whose only run is an anonymous visitor's history: `items` are item indices (oldest first),
 * `ratings` their ratings (same length). Throws a DataError for an index outside the vocabulary or a rating
 * outside the release's scale (0, 5].
 */
export function anonymousView(data: PreparedData, items: ArrayLike<number>, ratings: ArrayLike<number>): AnonymousView {
  const h = items.length;
  if (ratings.length !== h) throw new DataError(`anonymous history: ${h} movies but ${ratings.length} ratings`);
  const A = anonymousRun(data);
  const userOffsets = new Int32Array(A + 2); // runs 0..A: all empty but A = [0, h)
  userOffsets[A + 1] = h;
  const item = new Int32Array(h);
  const rating = new Float32Array(h);
  for (let j = 0; j < h; j++) {
    if (!(Number.isInteger(items[j]) && items[j] >= 1 && items[j] < data.sizes.numItems))
      throw new DataError(`anonymous history: item index ${items[j]} is outside 1..${data.sizes.numItems - 1}`);
    if (!(ratings[j] > 0 && ratings[j] <= 5))
      throw new DataError(`anonymous history: rating ${ratings[j]} of item ${items[j]} is outside (0, 5]`);
    item[j] = items[j];
    rating[j] = ratings[j];
  }
  const interactions = { userOffsets, user: new Int32Array(h).fill(A), item, rating, timestamp: new Float64Array(h) };
  const empty = new Int32Array(0);
  const view: PreparedData = {
    ...data,
    interactions,
    features: featuresWithAnonymous(data),
    split: { ...data.split, train: empty, val: empty, test: empty },
    positions: () => empty,
    batches: function* () {
      /* no targets: the view only scores candidates */
    },
    gather: () => {
      throw new DataError('an anonymous view has no training targets to gather');
    },
  };
  return { data: view, cut: { user: A, end: h, now: 0 } };
}
