#!/usr/bin/env node
// The `minicloud` executable: registers tsx so the TypeScript sources load directly, then runs the CLI.
require('tsx/cjs');
require('./main.ts').runFromProcess();
