/** Recommendations from a trained BST: candidate samples, top-N, explanations. */
export * from './candidates';
