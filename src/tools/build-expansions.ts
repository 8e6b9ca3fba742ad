/**
 * Writes each shipped ValueSet's precomputed `expansion` (every code, flattened), or checks that the
 * committed ones are current. A renderer or server without SNOMED CT, LOINC, ATC or ICD-10-CM can then
 * list the answers: Medplum 5's `$expand` returns a stored expansion as it is when `contains` is
 * non-empty, there is no `parameter` and `total` is absent or equals the number of codes, so none of
 * those is written. The timestamp is the ValueSet's `date`, so the output is deterministic.
 *
 * Usage: npx tsx src/tools/build-expansions.ts [--check]   (npm run expansions / expansions:check)
 */
import type { Resource, ValueSet, ValueSetExpansion } from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { Terminology } from '../core/terminology';
import { VALUESETS_DIR, PROFILES_DIR } from './paths';

/** The shipped resources the expansions are computed from (their code systems and imported ValueSets). */
function shippedResources(): Resource[] {
  return [VALUESETS_DIR, PROFILES_DIR].flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Resource)
  );
}

/** The expansion to store in a ValueSet: its codes, computed from `compose` by the offline terminology. */
export function precomputedExpansion(valueSet: ValueSet, terminology: Terminology): ValueSetExpansion {
  const result = terminology.expansion(valueSet);
  if (!result.ok) {
    throw new Error(`${valueSet.url}: ${result.issues.map((i) => i.details?.text).join('; ')}`);
  }
  if (!valueSet.date) {
    throw new Error(`${valueSet.url}: a ValueSet needs a date to stamp its expansion`);
  }
  return {
    timestamp: valueSet.date,
    contains: result.value.entries.map((e) => ({
      system: e.system,
      ...(e.version === undefined ? {} : { version: e.version }),
      code: e.code,
      ...(e.display === undefined ? {} : { display: e.display }),
    })),
  };
}

/** Each ValueSet file's text with its expansion, in the repository's JSON format. */
export function generateExpansions(): { file: string; content: string }[] {
  const resources = shippedResources();
  const terminology = new Terminology(
    resources.map((r) => (r.resourceType === 'ValueSet' ? { ...r, expansion: undefined } : r))
  );
  return fs
    .readdirSync(VALUESETS_DIR)
    .filter((f) => /^ValueSet-.+\.json$/.test(f))
    .sort()
    .map((f) => {
      const file = path.join(VALUESETS_DIR, f);
      const valueSet = JSON.parse(fs.readFileSync(file, 'utf8')) as ValueSet;
      const { expansion: _old, ...rest } = valueSet;
      void _old;
      const withExpansion = { ...rest, expansion: precomputedExpansion(valueSet, terminology) };
      return { file, content: JSON.stringify(withExpansion, null, 2) + '\n' };
    });
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const { file, content } of generateExpansions()) {
    if (fs.readFileSync(file, 'utf8') === content) {
      continue;
    }
    if (check) {
      stale.push(path.basename(file));
    } else {
      fs.writeFileSync(file, content);
      console.log(`wrote ${path.basename(file)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`Stale expansions (run npm run expansions): ${stale.join(', ')}`);
    process.exit(1);
  }
}
