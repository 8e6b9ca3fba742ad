import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { Resource } from '@medplum/fhirtypes';
import { evaluateResponse } from './src/core/operations/evaluate';
import { createNodeEngine } from './src/node/engine';
const engine = createNodeEngine();
const dir = 'profiles/examples';
const outs: Resource[] = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const qr = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const ev = evaluateResponse(qr, engine);
  outs.push(...(ev.bundle.entry ?? []).map((e) => e.resource as Resource));
}
const reg = engine.registry;
const only = process.argv[2];
function round() {
  for (const r of outs) {
    if (only && r.resourceType !== only) continue;
    const profiles = (r.meta?.profile ?? []).filter((p) => reg.resolve(p, 'StructureDefinition'));
    const run = engine.validator.begin(r);
    if (profiles.length) profiles.forEach((p) => run.withProfile(p)); else run.base();
  }
}
for (let i = 0; i < 5; i++) round();
const s = new Session(); s.connect();
s.post('Profiler.enable', () => s.post('Profiler.start', () => {
  for (let i = 0; i < 60; i++) round();
  s.post('Profiler.stop', (err, { profile }) => { writeFileSync('/tmp/validate-prof/loop.cpuprofile', JSON.stringify(profile)); });
}));
