/**
 * bst-lab: the Behavior Sequence Transformer (Chen et al. 2019) for MovieLens.
 * One entry point for notebooks (`import { ... } from "./lib/index"`), scripts and the CLI.
 */
export * from './util/errors';
export { Rng } from './util/rng';
export { writeFileAtomic, writeJsonAtomic, readJson } from './util/files';
export * from './kernels/backend';
export * from './app/params';
export * from './data/index';
export * from './model/index';
export * from './train/index';
export * from './eval/index';
export * from './viz/index';
export { installKernelFixes } from './kernels/index';
// Both lib/data (the MovieLens file generator) and lib/model (in-memory test samples) name an options type
// SyntheticOptions; the top level exports the data one.
export type { SyntheticOptions } from './data/index';
export * from './recommend/index';
export * from './app/experiment';
export * from './app/benchmark';
export * from './app/tune';
export * from './seqrec/index';
export * from './retrieval/index';
export * from './app/sequence-length';
