import type { ValueSet } from '@medplum/fhirtypes';
import n5AlphaReductaseInhibitors from '../../valuesets/ValueSet-re-5-alpha-reductase-inhibitors.json';
import alphaBlockers from '../../valuesets/ValueSet-re-alpha-blockers.json';
import antidepressants from '../../valuesets/ValueSet-re-antidepressants.json';
import antipsychotics from '../../valuesets/ValueSet-re-antipsychotics.json';
import conditions from '../../valuesets/ValueSet-re-conditions.json';
import diabetesType from '../../valuesets/ValueSet-re-diabetes-type.json';
import edAetiology from '../../valuesets/ValueSet-re-ed-aetiology.json';
import evidenceBasis from '../../valuesets/ValueSet-re-evidence-basis.json';
import labTests from '../../valuesets/ValueSet-re-lab-tests.json';
import onsetType from '../../valuesets/ValueSet-re-onset-type.json';
import otherRiskDrugs from '../../valuesets/ValueSet-re-other-risk-drugs.json';
import paraplegiaExtent from '../../valuesets/ValueSet-re-paraplegia-extent.json';
import partnerStatus from '../../valuesets/ValueSet-re-partner-status.json';
import peuMethod from '../../valuesets/ValueSet-re-peu-method.json';
import priorDrugTrial from '../../valuesets/ValueSet-re-prior-drug-trial.json';
import riskMedications from '../../valuesets/ValueSet-re-risk-medications.json';
import rule from '../../valuesets/ValueSet-re-rule.json';
import surgicalHistory from '../../valuesets/ValueSet-re-surgical-history.json';
import treatmentMedications from '../../valuesets/ValueSet-re-treatment-medications.json';
import whoEdition from '../../valuesets/ValueSet-re-who-edition.json';

/** The shipped ValueSets with their precomputed expansions (npm run expansions), bundled with the page. */
export const SHIPPED_VALUE_SETS = [
  n5AlphaReductaseInhibitors,
  alphaBlockers,
  antidepressants,
  antipsychotics,
  conditions,
  diabetesType,
  edAetiology,
  evidenceBasis,
  labTests,
  onsetType,
  otherRiskDrugs,
  paraplegiaExtent,
  partnerStatus,
  peuMethod,
  priorDrugTrial,
  riskMedications,
  rule,
  surgicalHistory,
  treatmentMedications,
  whoEdition,
] as ValueSet[];
