#!/usr/bin/env node
'use strict';
// The published entry point runs the compiled CLI (`npm run build`, done by `npm ci` through `prepare`).
require('../dist/cli/main.js');
