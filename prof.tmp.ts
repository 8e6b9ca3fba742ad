import { readdirSync, readFileSync } from 'node:fs';
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
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system); };
const byType = new Map<string, { us: number; n: number }>();
const reg = engine.registry;
for (let round = 0; round < 40; round++) {
  for (const r of outs) {
    const profiles = (r.meta?.profile ?? []).filter((p) => reg.resolve(p, 'StructureDefinition'));
    const t = cpu();
    const run = engine.validator.begin(r);
    if (profiles.length) profiles.forEach((p) => run.withProfile(p)); else run.base();
    const d = cpu() - t;
    if (round >= 2) { const e = byType.get(r.resourceType) ?? { us: 0, n: 0 }; e.us += d; e.n++; byType.set(r.resourceType, e); }
  }
}
for (const [t, e] of [...byType].sort((a, b) => b[1].us - a[1].us)) console.log(t.padEnd(22), (e.us / e.n).toFixed(0).padStart(6), 'µs each', (e.us / 10).toFixed(0).padStart(7), 'µs per round', e.n);
