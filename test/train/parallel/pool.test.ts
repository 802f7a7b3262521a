import * as path from 'path';
import { WorkerError, WorkerPool } from '../../../lib/train/parallel';

const script = path.join(__dirname, 'fixtures', 'faulty-worker.ts');

describe('WorkerPool', () => {
  test('requests round-trip to TypeScript workers', async () => {
    const { pool, ready } = await WorkerPool.start({ script, count: 2, workerData: () => ({}) });
    try {
      expect(ready.map((r) => r.type)).toEqual(['ready', 'ready']);
      const replies = await Promise.all([0, 1].map((i) => pool.request(i, { type: 'echo', value: i + 10 })));
      expect(replies.map((r) => r.value)).toEqual([10, 11]);
    } finally {
      await pool.close();
    }
  });

  test('an uncaught error in a worker rejects its request with the message; the pool then refuses work', async () => {
    const { pool } = await WorkerPool.start({ script, count: 2, workerData: () => ({}), label: 'test worker' });
    try {
      const other = pool.request(0, { type: 'echo', value: 1 });
      await expect(pool.request(1, { type: 'throw' })).rejects.toThrow(
        /test worker 2 of 2 failed: RangeError: uncaught in worker/,
      );
      await other.catch(() => undefined); // may have answered first, or been rejected by the failure
      await expect(pool.request(0, { type: 'echo', value: 2 })).rejects.toThrow(WorkerError);
    } finally {
      await pool.close();
    }
  });

  test('a worker that exits rejects with its exit code; a worker that fails to start rejects start()', async () => {
    const { pool } = await WorkerPool.start({ script, count: 1, workerData: () => ({}) });
    try {
      await expect(pool.request(0, { type: 'exit' })).rejects.toThrow(
        /worker 1 of 1 failed: exited unexpectedly with code 3/,
      );
    } finally {
      await pool.close();
    }
    await expect(
      WorkerPool.start({ script, count: 2, workerData: (i) => ({ failAtStart: i === 1 ? 'no data' : '' }) }),
    ).rejects.toThrow(/worker 2 of 2 failed: Error: cannot start: no data/);
  });
});
