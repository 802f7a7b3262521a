/** Training: the training loop (train.ts) and data-parallel gradient workers (parallel/). */
export * from './train';
export * from './parallel/index';
