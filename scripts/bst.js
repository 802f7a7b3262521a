#!/usr/bin/env node
// The `bst` command line. Compiles lib's TypeScript on the fly (tsx) and hands over to lib/cli.ts.
'use strict';
require('tsx/cjs/api').register();
require('../lib/cli')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
