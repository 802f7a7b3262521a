/**
 * Memory bandwidth of this machine, on one thread and on two at once (worker threads), for a copy that stays
 * in cache (2 MB) and one that goes to DRAM (64 MB). Explains when data-parallel training pays off: a step
 * whose working set spills out of the shared cache slows both threads down (see README, Speed).
 *
 *   npx tsx bench/memory.ts
 */
import { Worker } from 'worker_threads';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '2');

/** Worker source: GB/s (read + write) of copying a buffer of workerData.bytes for workerData.seconds. */
const COPY = `
const { parentPort, workerData } = require('worker_threads');
const a = new Float64Array(workerData.bytes / 8).fill(1);
const b = new Float64Array(workerData.bytes / 8);
const t0 = performance.now();
let moved = 0;
while (performance.now() - t0 < workerData.seconds * 1000) {
  b.set(a);
  moved += 2 * workerData.bytes;
}
parentPort.postMessage(moved / ((performance.now() - t0) / 1000) / 1e9);
`;

/** Copy rates (GB/s) of `threads` threads copying `bytes` each at the same time. */
function together(bytes: number, threads: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(COPY, { eval: true, workerData: { bytes, seconds: SECONDS } });
          w.once('message', (r: number) => {
            resolve(r);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
}

async function main(): Promise<void> {
  console.log(`copy bandwidth (read + write), ${SECONDS} s per measurement`);
  for (const [label, bytes] of [
    ['2 MB (cache)', 2 << 20],
    ['64 MB (DRAM)', 64 << 20],
  ] as const) {
    const one = await together(bytes, 1);
    const two = await together(bytes, 2);
    console.log(
      `${label.padEnd(14)} one thread ${one[0].toFixed(1)} GB/s; two threads ${two.map((r) => r.toFixed(1)).join(' + ')} GB/s`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
