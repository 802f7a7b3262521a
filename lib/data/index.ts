/** Public API of the data pipeline: loaders, downloader, synthetic generator, features, splits and batches. */
export * from './types';
export * from './formats';
export type { LoadOptions, LoadReport, Dataset, Table } from './load';
export { loadMovieLens, genreList, parseYear, formatLoadReport, loadSummary, firstUsers } from './load';
export type { RatingColumns } from './parse';
export { parseRatingsFile, splitCsvLine } from './parse';
export type { FetchLike, DownloadOptions } from './download';
export { downloadRelease, ensureDataset } from './download';
export { resolveDataDir, datasetFromEnv, loadFromEnv } from './env';
export type { SyntheticOptions, SyntheticResult } from './synthetic';
export { SYNTHETIC_GENRES, generateSynthetic } from './synthetic';
export type { Vocabs, VocabsJSON } from './vocab';
export { Vocab, vocabsToJSON, vocabsFromJSON, saveVocabs, loadVocabs, zipPrefix } from './vocab';
export type { SplitCounts, SplitResult } from './split';
export { leaveLastK, legacyWindows, kerasWindowTargets, kerasWindowCount, formatSplitCounts } from './split';
export type { FeatureTables, GatherOptions, BatchOptions, BlockShuffleOptions } from './samples';
export { chunkSamples, concatSamples, sliceSamples, takeSamples } from './sample-rows';
export {
  allocSamples,
  blockShuffle,
  DEFAULT_SHUFFLE_BLOCK,
  DEFAULT_SHUFFLE_WINDOW,
  gatherSamples,
  iterateBatches,
} from './samples';
export type { Protocol, PrepareOptions, PreparedData } from './prepare';
export { prepareData, featureSizes, sortIntoRuns } from './prepare';
