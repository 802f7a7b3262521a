/** Evaluation: rating metrics, rating baselines (global mean, user+item bias, biased MF), ranking metrics. */
export * from './metrics';
export * from './baselines';
export * from './ranking';
