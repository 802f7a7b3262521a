/** Evaluation: rating metrics, rating baselines (global mean, user+item bias, biased MF, history blend, item KNN), ranking metrics. */
export * from './baselines';
export * from './fit-baselines';
export * from './ranking';
export * from './history-baselines';
export * from './next-item';
export * from './next-item-baselines';
