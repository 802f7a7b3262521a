/** Retrieval: the two-tower model (config, features, towers, log-q sampled softmax, training), vector export and Retriever adapters. */
export * from './config';
export * from './features';
export * from './model';
export * from './loss';
export * from './evaluate';
export * from './train';
export * from './vectors';
export * from './io';
export * from './types';
export * from './retrievers';
export * from './pipeline';
export * from './io';
