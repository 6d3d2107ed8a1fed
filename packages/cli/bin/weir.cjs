#!/usr/bin/env node
require('../dist/weir.cjs').main(process.argv);
