/**
 * The contract between the data pipeline (lib/data) and the model (lib/model).
 *
 * The pipeline keeps every user's ratings once, encoded and time-ordered (`Interactions`), and names
 * samples by the position of their target rating (`SplitIndex`). Windows are cut only when a batch is built
 * (`Samples`), so ML-20M never needs every window in memory at once.
 */

/** Vocabulary sizes seen by the model. Every size counts index 0 (padding / unknown value). */
export interface FeatureSizes {
  /** users + 1 */
  numUsers: number;
  /** movies + 1 */
  numItems: number;
  /** width of the genre multi-hot (no padding slot: a movie with no known genre is all zeros) */
  numGenres: number;
  /** distinct release years + 1 */
  numYears: number;
  /** demographic vocabularies (+1 each); 1 when the release has no such column (only the unknown slot) */
  numGenders: number;
  numAges: number;
  numOccupations: number;
  numZips: number;
}

/**
 * All ratings of all users, encoded and sorted by (user, timestamp, movieId).
 * User u's ratings are positions userOffsets[u] .. userOffsets[u+1]-1. Index 0 of every vocabulary is
 * padding/unknown, so userOffsets has numUsers + 1 entries and user 0's run is empty.
 * Extension (lib/data): runs numbered >= FeatureSizes.numUsers may follow; they hold users unknown to the training
 * vocabulary (legacy protocol only: users none of whose windows fell into training). Samples give them userIdx 0.
 * So in general userOffsets.length - 1 is the number of runs, which is >= numUsers.
 */
export interface Interactions {
  userOffsets: Int32Array; // [numUsers + 1]
  user: Int32Array; // [N] user index
  item: Int32Array; // [N] movie index (0 = movie unknown to the vocabulary)
  rating: Float32Array; // [N] raw rating (1..5, or 0.5..5 in half stars)
  timestamp: Float64Array; // [N] seconds since epoch
}

/** Target positions (indices into Interactions) of each split. */
export interface SplitIndex {
  protocol: 'leave-last-k' | 'legacy-random-windows';
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/**
 * A batch of n samples with sequence length L = (L - 1) history items + the target item in the last slot,
 * as in the BST paper. Arrays are row-major; padded slots hold 0 (item 0, rating 0, timeDelta 0).
 */
export interface Samples {
  n: number;
  seqLen: number; // L
  userIdx: Int32Array; // [n]
  itemSeq: Int32Array; // [n, L] history left-padded with 0, target movie at index L-1
  ratingSeq: Float32Array; // [n, L] ratings of the history items; 0 at padding and at the target slot
  timeDelta: Float32Array; // [n, L] seconds from each history item to the target (>= 0); 0 at padding and target
  genres: Float32Array; // [n, numGenres] target movie multi-hot
  yearIdx: Int32Array; // [n] target movie release year index
  gender: Int32Array; // [n]
  age: Int32Array; // [n]
  occupation: Int32Array; // [n]
  zip: Int32Array; // [n]
  rating: Float32Array; // [n] label: the target rating
  liked: Float32Array; // [n] label: 1 when rating >= 4, else 0
}
