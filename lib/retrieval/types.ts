/** The retrieval stage's contract with a ranking stage (lib/retrieval). */

/**
 * A candidate generator: the best `m` item indices (of a NextItemSplit's catalogue, 1..numItems-1) for a
 * history, best first, never an item of `exclude` nor index 0. `user` (raw userId) lets a retriever use user
 * features; retrievers without them ignore it.
 */
export interface Retriever {
  name: string;
  retrieve(history: ArrayLike<number>, m: number, exclude: ArrayLike<number>, user?: number): Int32Array;
  /**
   * optional batched form (same result as calling retrieve per history with `users[i]`); `users`: raw MovieLens
   * user ids, for retrievers that read user features (undefined = an anonymous history)
   */
  retrieveBatch?(
    histories: Int32Array[],
    m: number,
    excludes: ArrayLike<number>[],
    users?: ArrayLike<number | undefined>,
  ): Int32Array[];
  /** optional: free the model's tensors (a served model being swapped out) */
  dispose?(): void;
}
