/** The BST model: config, custom layers, builder, inputs, inference, metrics, training and checkpoints. */
export * from './config';
export * from './layers/index';
export * from './inputs';
export * from './build';
export * from './parts';
export * from './metrics';
export * from './predict';
export * from './attention-stats';
export * from './progress';
export * from './checkpoint';
export * from './rating-metrics';
