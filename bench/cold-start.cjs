// Cold-start probe for the bench: a fresh process requires the built CommonJS library and evaluates
// one response with the default engine. Prints the timings as JSON (performance.now() counts from
// the start of the process, so Node's own start-up is included in sinceProcessStartMs).
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const started = performance.now();
const lib = require(join(__dirname, '..', 'dist', 'cjs', 'index.cjs'));
const imported = performance.now();
const response = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const evaluation = lib.evaluate(response);
const evaluated = performance.now();
const cpu = process.cpuUsage();
if (!evaluation.bundle.entry || evaluation.bundle.entry.length === 0) {
  throw new Error('the evaluation produced nothing');
}
process.stdout.write(
  JSON.stringify({
    importMs: imported - started,
    firstEvaluationMs: evaluated - imported,
    sinceProcessStartMs: evaluated,
    // CPU time of the process so far (user + system, all threads): less sensitive to a busy machine.
    cpuMs: (cpu.user + cpu.system) / 1000,
  })
);
