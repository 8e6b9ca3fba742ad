import type { Coding, Duration, Observation, QuestionnaireItem } from '@medplum/fhirtypes';
import { isObject } from '../json';
import { isQuantity } from './answers';
import { POPULATE_EXTENSION } from './extensions';
import { instant } from './record-search';

/** Observation statuses whose value may pre-fill an answer (R4 `observation-status`). */
const USABLE_STATUS = new Set(['final', 'amended', 'corrected']);

/** Milliseconds of the fixed UCUM units; `mo` and `a` are calendar steps (see {@link periodStart}). */
const FIXED_MS: Record<string, number> = { d: 86_400_000, wk: 7 * 86_400_000, h: 3_600_000, min: 60_000 };

/**
 * The start of an `observationLinkPeriod` ending at `now`, or why the period cannot be used.
 * Months and years step the calendar in UTC (2026-12-07 minus 6 mo is 2026-06-07).
 */
export function periodStart(period: Duration, now: Date): Date | string {
  const value = period.value;
  const code = period.code;
  if (typeof value !== 'number' || !(value >= 0) || period.system !== 'http://unitsofmeasure.org') {
    return 'its period is not a UCUM duration';
  }
  if (code === 'mo' || code === 'a') {
    if (!Number.isInteger(value)) {
      return `its period of ${value} ${code} is not a whole number`;
    }
    const d = new Date(now.getTime());
    d.setUTCMonth(d.getUTCMonth() - (code === 'a' ? 12 * value : value));
    return d;
  }
  const ms = code === undefined ? undefined : FIXED_MS[code];
  return ms === undefined
    ? `its period unit ${String(code)} is not supported`
    : new Date(now.getTime() - value * ms);
}

/** The item's observationLinkPeriod, if any. */
export function linkPeriod(item: QuestionnaireItem): Duration | undefined {
  return item.extension?.find((e) => e.url === POPULATE_EXTENSION.observationLinkPeriod)?.valueDuration;
}

/** The search for the item's Observations in the period: by every item.code, newest first. */
export function observationQuery(item: QuestionnaireItem, patientId: string, start: Date): string {
  const codes = (item.code ?? [])
    .filter((c) => c.code !== undefined)
    .map((c) => `${c.system ?? ''}|${c.code}`)
    .join(',');
  return `Observation?patient=Patient/${encodeURIComponent(patientId)}&code=${encodeURIComponent(codes)}&date=ge${start.toISOString()}&_sort=-date`;
}

export interface LinkedObservation {
  readonly observation: Observation;
  readonly at: number;
}

/**
 * The most recent usable Observation for the item: same code as an item.code, status final, amended or
 * corrected, effective within [start, now], and a value the item can take (for an item with a
 * `questionnaire-unit`, a Quantity in that very unit). Ties on time go to the lower id, so the choice
 * is reproducible. `skipped` says why each candidate in the period was not used.
 */
export function mostRecentObservation(
  item: QuestionnaireItem,
  candidates: readonly unknown[],
  start: Date,
  now: Date
): { chosen?: LinkedObservation; skipped: string[] } {
  const unit = item.extension?.find((e) => e.url === POPULATE_EXTENSION.unit)?.valueCoding;
  const skipped: string[] = [];
  const usable: LinkedObservation[] = [];
  for (const c of candidates) {
    if (!isObject(c) || c.resourceType !== 'Observation') {
      continue;
    }
    const obs = c as unknown as Observation;
    if (!(obs.code?.coding ?? []).some((oc) => (item.code ?? []).some((ic) => sameCode(ic, oc)))) {
      continue;
    }
    const at = instant(
      obs.effectiveDateTime ?? obs.effectiveInstant ?? obs.effectivePeriod?.start ?? obs.issued
    );
    if (!(at >= start.getTime() && at <= now.getTime())) {
      continue;
    }
    const label = `Observation/${obs.id ?? '?'}`;
    if (!USABLE_STATUS.has(String(obs.status))) {
      skipped.push(`${label} has status ${String(obs.status)}`);
      continue;
    }
    if (!isQuantity(obs.valueQuantity)) {
      skipped.push(`${label} has no numeric valueQuantity`);
      continue;
    }
    if (unit && !(obs.valueQuantity.system === unit.system && obs.valueQuantity.code === unit.code)) {
      skipped.push(
        `${label} is in ${obs.valueQuantity.code ?? obs.valueQuantity.unit ?? 'no unit'}, not ${unit.code ?? '?'} (no conversion is made)`
      );
      continue;
    }
    usable.push({ observation: obs, at });
  }
  usable.sort((a, b) => b.at - a.at || String(a.observation.id).localeCompare(String(b.observation.id)));
  return { chosen: usable[0], skipped };
}

function sameCode(a: Coding, b: Coding): boolean {
  return a.code !== undefined && a.code === b.code && (a.system ?? '') === (b.system ?? '');
}
