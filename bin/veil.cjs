#!/usr/bin/env node
// The `veil` command. Veil ships as TypeScript and runs through tsx's CommonJS hook, so `npx veil` needs no build.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => {
    console.error(`veil: ${err && err.message ? err.message : String(err)}`);
    process.exitCode = 1;
  });
