/** Data-parallel training over worker threads: the trainer, its worker pool, sharding and the BST_WORKERS setting. */
export * from './trainer';
export * from './pool';
export * from './shards';
export * from './env';
export { checksumOf } from './protocol';
