/** Charts, tables and progress displays for the notebooks (lib/viz). */
export * from './html';
export * from './plotly';
export * from './charts';
export * from './table';
export * from './display';
export * from './explore';
export * from './sequences';
export * from './model';
export * from './cache';
export * from './findings';
export * from './retrieval';
