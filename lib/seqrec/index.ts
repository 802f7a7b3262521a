/** A SASRec-style causal sequence recommender: config, model (scoring) and training. */
export * from './config';
export * from './model';
export * from './train';
export * from './io';
