import fc from 'fast-check';
import { finding, status } from './cases';
import type { CaseSpec, ExtractedCondition, FeatureValue } from './cases';

/** Boolean case features the management content reads. */
export const BOOLEAN_FEATURES = [
  'feature-re-suspected',
  'feature-peu-positive',
  'feature-peu-negative',
  'feature-aspermia',
  'feature-infertility',
  'feature-semen-analysis-needed',
  'feature-peu-indicated',
  'feature-anejaculation-workup',
  'feature-hypospermia',
  'feature-culprit-stoppable',
  'feature-culprit-must-continue',
  'feature-fertility-or-bother',
  'feature-psychological',
  'feature-sympathomimetic-contraindicated',
  'feature-fertility-wish',
  'feature-drug-trial-failed',
  'feature-relationship-impact',
];

/** Coded case features and the values they take. */
export const CODED_FEATURES: Record<string, FeatureValue[]> = {
  'feature-re-status': ['provisional', 'confirmed', 'refuted'].map(status),
  'feature-re-extent': ['re-complete', 're-partial'].map(finding),
  'feature-anejaculation-status': ['provisional', 'differential'].map(status),
  'feature-ed': ['ed-organic', 'ed-psychogenic'].map(finding),
  'feature-pe': ['pe', 'pe-probable'].map(finding),
};

const featureArb = fc.record(
  Object.fromEntries([
    ...BOOLEAN_FEATURES.map((name) => [name, fc.option(fc.boolean(), { nil: undefined })]),
    ...Object.entries(CODED_FEATURES).map(([name, values]) => [
      name,
      fc.option(fc.constantFrom(...values), { nil: undefined }),
    ]),
  ]) as Record<string, fc.Arbitrary<FeatureValue | undefined>>
);

const conditionArb: fc.Arbitrary<ExtractedCondition[]> = fc.uniqueArray(
  fc.record({
    key: fc.constantFrom(
      'R1-re',
      'R4-anejaculation',
      'R6-ed',
      'R6-pe',
      'INF-infertility',
      'RF-diabetes',
      'RF-ms',
      'RF-sci',
      'RF-paraplegia'
    ),
    status: fc.constantFrom('provisional', 'confirmed', 'refuted', 'entered-in-error', undefined),
  }) as fc.Arbitrary<ExtractedCondition>,
  { selector: (c) => c.key, maxLength: 6 }
);

const drugArb = fc.array(
  fc.record({
    code: fc.constantFrom('G04CA02', 'G04CA04', 'N06AB06', 'N05AX08', 'C02CC02'),
    display: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    stoppable: fc.boolean(),
  }),
  { maxLength: 3 }
);

/** Random evaluations as the management content sees them: case features, extracted Conditions, listed drugs. */
export const caseArb: fc.Arbitrary<CaseSpec> = fc
  .record({ features: featureArb, conditions: conditionArb, drugs: drugArb })
  .map((spec) => ({
    ...spec,
    features: Object.fromEntries(Object.entries(spec.features).filter(([, v]) => v !== undefined)) as Record<
      string,
      FeatureValue
    >,
  }));
