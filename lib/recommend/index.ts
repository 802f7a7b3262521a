/** Recommendations from a trained BST: candidate samples, top-N, ranking evaluation, diversity, explanations. */
export * from './candidates';
export * from './catalog';
export * from './score';
export * from './diversity';
export * from './explain';
export * from './recommend';
export * from './ranking';
export * from './train';
export * from './two-stage';
export * from './shared-history';
export * from './knn-ranking';
export * from './pipeline';
export * from './rank-train';
export * from './pipeline-run';
export * from './rerank-curve';
