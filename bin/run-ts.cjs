#!/usr/bin/env node
// Runs a TypeScript entry file without a build step (tsx's CommonJS hook); used by npm scripts and the CLI.
require('tsx/cjs');
const path = require('node:path');
const entry = process.argv[2];
if (!entry) {
  console.error('usage: run-ts.cjs FILE.ts [args...]');
  process.exit(2);
}
process.argv.splice(1, 2, path.resolve(entry));
require(path.resolve(entry));
