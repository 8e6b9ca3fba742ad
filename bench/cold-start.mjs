// Cold-start probe for the bench: a fresh process imports the built ES module library and evaluates
// one response with the default engine. Prints the timings as JSON (performance.now() counts from
// the start of the process, so Node's own start-up is included in sinceProcessStartMs).
import { readFileSync } from 'node:fs';

const started = performance.now();
const lib = await import(new URL('../dist/esm/index.mjs', import.meta.url).href);
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
