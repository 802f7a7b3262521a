#!/usr/bin/env node
// The `bst` command line. Compiles lib's TypeScript on the fly (tsx) and hands over to lib/cli.ts.
'use strict';
require('tsx/cjs/api').register();
require('../lib/cli')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      // main() reports its own errors; this is the last resort (one line, no minified sources)
      console.error(`bst: internal error: ${String((e && e.message) || e).split('\n')[0].slice(0, 500)}`);
      process.exitCode = 70;
    },
  );
