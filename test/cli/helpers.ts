/** Running the `bst` CLI in-process with its console output captured (shared by the CLI tests). */
import { main } from '../../lib/app/cli';

/** What `captureCli` returns: `run(argv)` gives main's exit code; `out` and `err` hold that run's lines (cleared per run). */
export interface CapturedCli {
  run(argv: string[]): Promise<number>;
  out: string[];
  err: string[];
}

/** An in-process CLI runner whose console.log lines go to `out` and console.error lines to `err`. */
export function captureCli(): CapturedCli {
  const out: string[] = [];
  const err: string[] = [];
  const run = async (argv: string[]): Promise<number> => {
    out.length = 0;
    err.length = 0;
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      return await main(argv);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
  return { run, out, err };
}
