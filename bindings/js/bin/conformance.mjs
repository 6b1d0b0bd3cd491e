#!/usr/bin/env node
// retry-with-backoff-conformance PATH...: runs conformance scenario files (or every *.yaml
// below directories) through this package. Exit codes: 0 every scenario passed, 1 a scenario
// failed, 2 usage error or a path that does not exist.

import { runPaths } from '../src/conformance.js';

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('-h') || args.includes('--help')) {
  const usage = [
    'usage: retry-with-backoff-conformance PATH...',
    '',
    'Runs conformance scenario files, or every *.yaml below directories.',
    '',
    'Exit codes:',
    '  0  every scenario passed',
    '  1  a scenario failed',
    '  2  usage error or a path that does not exist',
  ].join('\n');
  (args.length === 0 ? console.error : console.log)(usage);
  process.exit(args.length === 0 ? 2 : 0);
}
let summary;
try {
  summary = runPaths(args);
} catch (error) {
  console.error(`error: ${error.message}`);
  process.exit(2);
}
console.log(`${summary.passed} passed, ${summary.failed} failed`);
process.exitCode = summary.failed === 0 ? 0 : 1;
