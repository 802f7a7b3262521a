/** Custom tfjs layers of the BST model (all registered for serialization on import). */
export * from './common';
export * from './ops';
export * from './norm';
export * from './attention';
export * from './position';
export * from './misc';
