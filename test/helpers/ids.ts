import type { Clock, IdGenerator } from '../../src/core/types';

/** Deterministic UUIDs: 00000000-0000-4000-8000-000000000001, ...002, ... */
export function counterIds(): IdGenerator {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

/** A clock frozen at one instant. */
export function fixedClock(iso = '2026-11-27T09:00:00Z'): Clock {
  return () => new Date(iso);
}
