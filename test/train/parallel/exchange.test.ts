import * as path from 'path';
import { ExchangeBuffers, layoutOf } from '../../../lib/train/parallel/protocol';
import { WorkerPool, WorkerReply } from '../../../lib/train/parallel';
import { Rng } from '../../../lib/util/rng';
import { randomDelay, stressValues } from './fixtures/exchange-stress';

const script = path.join(__dirname, 'fixtures', 'exchange-stress-worker.ts');

/** Steps of the stress run, the share the main thread abandons, and how long one reply may take on a loaded machine. */
const STEPS = 1500;
const ABANDON_SHARE = 0.05;
const REPLY_MS = 3000;

function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('ExchangeBuffers', () => {
  test('announcements of one step do not overwrite the other parity: a late waiter still sees its step', () => {
    const layout = layoutOf([[2, 3], [4]]);
    const s = ExchangeBuffers.allocate(2, layout);
    const a = new ExchangeBuffers(s.grads, s.has, s.control, 2, layout);
    a.publish(7, 1, stressValues(layout, 7, 1));
    a.publish(7, 0, stressValues(layout, 7, 0));
    a.publish(8, 0, stressValues(layout, 8, 0)); // rank 0 moves on before rank 1 looked
    expect(a.waitAll(7, { timeoutMs: 0 })).toBe('ready');
    expect(Array.from(a.grad(7, 0, 1))).toEqual(Array.from(stressValues(layout, 7, 0)[1]));
    a.abandon(9, 0); // abandoned, then the next step announced: the abandonment stays visible
    a.publish(9, 1, stressValues(layout, 9, 1));
    a.publish(10, 0, stressValues(layout, 10, 0));
    expect(a.waitAll(9, { timeoutMs: 0 })).toBe('abandoned');
    expect(a.waitAll(10, { timeoutMs: 5, sleep: false })).toBe('timeout'); // rank 1 has not published 10
    expect(a.announced(10)).toEqual([10, 0]); // rank 1 never announced an even step
    a.close();
    expect(a.waitAll(10)).toBe('closed');
    expect(() => a.publish(0, 0, [])).toThrow(/start at 1, got 0/);
  });

  test(`stress: ${STEPS} steps with a worker thread, both descheduled at random, finish; every step is seen as it was`, async () => {
    const layout = layoutOf([[3, 5], [7], [1]]);
    const shared = ExchangeBuffers.allocate(2, layout);
    const ex = new ExchangeBuffers(shared.grads, shared.has, shared.control, 2, layout);
    const { pool } = await WorkerPool.start({
      script,
      count: 1,
      label: 'stress worker',
      workerData: () => ({ grads: shared.grads, has: shared.has, control: shared.control, layout, seed: 11 }),
    });
    const rng = new Rng(12);
    const dummy = new Int32Array(new SharedArrayBuffer(4));
    const abandoned: number[] = [];
    const wrong: string[] = [];
    const t0 = performance.now();
    try {
      for (let seq = 1; seq <= STEPS; seq++) {
        const reply = pool.request(0, { type: 'step', seq });
        randomDelay(rng, dummy, 0.3);
        const abandon = rng.next() < ABANDON_SHARE;
        if (abandon) {
          ex.abandon(seq, 0);
          abandoned.push(seq);
        } else ex.publish(seq, 0, stressValues(layout, seq, 0));
        // as DataParallelTrainer.step: poll briefly, then rely on the reply (sent after the worker published)
        const ready = !abandon && ex.waitAll(seq, { sleep: false, timeoutMs: rng.next() }) === 'ready';
        if (rng.next() < 0.2) await new Promise((r) => setImmediate(r)); // the main thread's event loop turns
        await withTimeout(
          reply,
          REPLY_MS,
          () =>
            `no reply to step ${seq} within ${REPLY_MS} ms ` +
            `(announcements of its parity ${JSON.stringify(ex.announced(seq))}, of the other ${JSON.stringify(ex.announced(seq + 1))})`,
        );
        if (!abandon) {
          if (!ready) expect(ex.waitAll(seq, { sleep: false, timeoutMs: 0 })).toBe('ready');
          const want = stressValues(layout, seq, 1);
          want.forEach((w, i) => {
            if (ex.grad(seq, 1, i).some((x, j) => x !== w[j])) wrong.push(`step ${seq}, weight ${i}`);
          });
        }
      }
      const report = await withTimeout(
        pool.request(0, { type: 'report' }),
        REPLY_MS,
        () => 'no report from the stress worker',
      );
      const seconds = (performance.now() - t0) / 1000;
      expect(wrong).toEqual([]);
      expect((report as WorkerReply).wrong).toEqual([]);
      expect(report.abandoned).toEqual(abandoned);
      expect(report.applied).toBe(STEPS - abandoned.length);
      expect([report.closed, report.timeouts]).toEqual([0, 0]);
      // the race the old single-slot protocol lost: rank 0 announced the next step before the worker waited
      expect(report.overtaken).toBeGreaterThan(STEPS / 50);
      expect(seconds).toBeLessThan(30);
    } finally {
      ex.close(); // a waiting worker stops waiting
      await pool.close();
    }
  }, 60_000);
});
