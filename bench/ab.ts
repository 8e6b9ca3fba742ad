/**
 * `npm run bench:ab -- <revision>`: the full evaluation of this tree against another revision's, in
 * one process. Both engines evaluate the four shipped examples in alternating blocks, so that a shared
 * machine's drifts (CPU per evaluation here varies by up to 2× between rounds of one process) hit
 * both alike; the figure is the median ratio of the blocks' CPU. `bench/launch.mjs` extracts the
 * revision's `src/`, `profiles/` and `valuesets/` (`git archive`) into `bench/results/.build/base/`
 * and bundles its engine, with its own content, as `ab-base.cjs` beside this file's bundle. Both
 * evaluate this tree's examples.
 *
 * Options: --pairs=N (block pairs, default 60), --block=N (evaluations per block, default 40).
 * Not a test: nothing is asserted.
 */
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { evaluateResponse } from '../src/core/operations/evaluate';
import { createNodeEngine } from '../src/node/engine';
import { median } from './measure';

const ROOT = resolve(process.env.BENCH_ROOT ?? process.cwd());
const EXAMPLES = join(ROOT, 'profiles/examples');

function option(name: string, fallback: number): number {
  const value = Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3));
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const responses = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as QuestionnaireResponse);
/** The revision's engine, with this tree's signatures (a change of them shows as a failure here). */
const baseEngine = createRequire(__filename)(join(__dirname, 'ab-base.cjs')) as {
  evaluateResponse: typeof evaluateResponse;
  createNodeEngine: typeof createNodeEngine;
};
const baseDeps = baseEngine.createNodeEngine();
const deps = createNodeEngine();
const runBase = (i: number): unknown =>
  baseEngine.evaluateResponse(responses[i % responses.length]!, baseDeps);
const runThis = (i: number): unknown => evaluateResponse(responses[i % responses.length]!, deps);

const pairs = option('pairs', 60);
const blockSize = option('block', 40);

/** CPU ms per evaluation over one block. */
function block(run: (i: number) => unknown): number {
  const before = process.cpuUsage();
  for (let i = 0; i < blockSize; i++) {
    run(i);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / blockSize;
}

// Both optimised before anything is measured (as bench/evaluate.ts's steady-state warm-up).
for (let i = 0; i < 800; i++) {
  runBase(i);
  runThis(i);
}
const base: number[] = [];
const mine: number[] = [];
for (let p = 0; p < pairs; p++) {
  // Which goes first alternates, so that neither always follows the other's garbage.
  if (p % 2 === 0) {
    base.push(block(runBase));
    mine.push(block(runThis));
  } else {
    mine.push(block(runThis));
    base.push(block(runBase));
  }
}
const ratios = mine.map((m, i) => m / base[i]!);
console.log(
  `full evaluation, CPU ms per response (median of ${pairs} blocks of ${blockSize}): ` +
    `${process.env.BENCH_BASE_LABEL ?? 'base'} ${median(base).toFixed(3)}, this tree ${median(mine).toFixed(3)}; ` +
    `this / base: ${median(ratios).toFixed(3)} (median of the block pairs' ratios)`
);
