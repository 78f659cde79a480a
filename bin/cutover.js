#!/usr/bin/env node
'use strict';
// The published entry point runs the compiled CLI (`npm run build`, done by `npm ci` through `prepare`).
const { main } = require('../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
