#!/usr/bin/env node
// The `bst` command line. Compiles lib's TypeScript on the fly (tsx) and hands over to lib/app/cli.ts.
'use strict';
require('tsx/cjs/api').register();
// errors outside main()'s await chain (a stray callback): one line too, the stack only when verbose
const verbose =
  process.argv.includes('--verbose') || process.env.BST_VERBOSE === '1' || process.env.BST_VERBOSE === 'true';
process.on('uncaughtException', (e) => {
  console.error(
    `bst: internal error: ${String((e && e.message) || e)
      .split('\n')[0]
      .slice(0, 500)}`,
  );
  if (verbose && e && e.stack) console.error(e.stack);
  process.exit(70);
});
require('../lib/app/cli')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      // main() reports its own errors; this is the last resort (one line, no minified sources)
      console.error(
        `bst: internal error: ${String((e && e.message) || e)
          .split('\n')[0]
          .slice(0, 500)}`,
      );
      process.exitCode = 70;
    },
  );
