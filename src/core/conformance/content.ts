import type { Resource } from '@medplum/fhirtypes';
import questionnaireReEvaluation from '../../../profiles/Questionnaire-re-evaluation.json';
import structureDefinitionReCareplan from '../../../profiles/StructureDefinition-re-careplan.json';
import structureDefinitionReCondition from '../../../profiles/StructureDefinition-re-condition.json';
import structureDefinitionReEvidenceBasis from '../../../profiles/StructureDefinition-re-evidence-basis.json';
import structureDefinitionReObservation from '../../../profiles/StructureDefinition-re-observation.json';
import structureDefinitionReProvenance from '../../../profiles/StructureDefinition-re-provenance.json';
import structureDefinitionReQuestionnaireresponse from '../../../profiles/StructureDefinition-re-questionnaireresponse.json';
import structureDefinitionReRule from '../../../profiles/StructureDefinition-re-rule.json';
import codeSystemReActivity from '../../../valuesets/CodeSystem-re-activity.json';
import codeSystemReAnswer from '../../../valuesets/CodeSystem-re-answer.json';
import codeSystemReEvidenceBasis from '../../../valuesets/CodeSystem-re-evidence-basis.json';
import codeSystemReFinding from '../../../valuesets/CodeSystem-re-finding.json';
import codeSystemReItem from '../../../valuesets/CodeSystem-re-item.json';
import codeSystemReRule from '../../../valuesets/CodeSystem-re-rule.json';
import conceptMapReIcd10cmToIcd11 from '../../../valuesets/ConceptMap-re-icd10cm-to-icd11.json';
import valueSetRe5AlphaReductaseInhibitors from '../../../valuesets/ValueSet-re-5-alpha-reductase-inhibitors.json';
import valueSetReAlphaBlockers from '../../../valuesets/ValueSet-re-alpha-blockers.json';
import valueSetReAntidepressants from '../../../valuesets/ValueSet-re-antidepressants.json';
import valueSetReAntipsychotics from '../../../valuesets/ValueSet-re-antipsychotics.json';
import valueSetReConditions from '../../../valuesets/ValueSet-re-conditions.json';
import valueSetReDiabetesType from '../../../valuesets/ValueSet-re-diabetes-type.json';
import valueSetReEdAetiology from '../../../valuesets/ValueSet-re-ed-aetiology.json';
import valueSetReEvidenceBasis from '../../../valuesets/ValueSet-re-evidence-basis.json';
import valueSetReLabTests from '../../../valuesets/ValueSet-re-lab-tests.json';
import valueSetReOnsetType from '../../../valuesets/ValueSet-re-onset-type.json';
import valueSetReOtherRiskDrugs from '../../../valuesets/ValueSet-re-other-risk-drugs.json';
import valueSetReParaplegiaExtent from '../../../valuesets/ValueSet-re-paraplegia-extent.json';
import valueSetRePartnerStatus from '../../../valuesets/ValueSet-re-partner-status.json';
import valueSetRePeuMethod from '../../../valuesets/ValueSet-re-peu-method.json';
import valueSetRePriorDrugTrial from '../../../valuesets/ValueSet-re-prior-drug-trial.json';
import valueSetReRiskMedications from '../../../valuesets/ValueSet-re-risk-medications.json';
import valueSetReRule from '../../../valuesets/ValueSet-re-rule.json';
import valueSetReSurgicalHistory from '../../../valuesets/ValueSet-re-surgical-history.json';
import valueSetReTreatmentMedications from '../../../valuesets/ValueSet-re-treatment-medications.json';
import valueSetReWhoEdition from '../../../valuesets/ValueSet-re-who-edition.json';

// Every shipped artefact in profiles/ and valuesets/, imported statically so that bundlers
// (the library build, the Medplum bot) inline them. A conformance test fails when a file on disk
// is missing here. Keep the imports and the list sorted by path.

/** The shipped conformance resources (definitions and terminology; not the examples). */
export const CONTENT: readonly Resource[] = [
  questionnaireReEvaluation,
  structureDefinitionReCareplan,
  structureDefinitionReCondition,
  structureDefinitionReEvidenceBasis,
  structureDefinitionReObservation,
  structureDefinitionReProvenance,
  structureDefinitionReQuestionnaireresponse,
  structureDefinitionReRule,
  codeSystemReActivity,
  codeSystemReAnswer,
  codeSystemReEvidenceBasis,
  codeSystemReFinding,
  codeSystemReItem,
  codeSystemReRule,
  conceptMapReIcd10cmToIcd11,
  valueSetRe5AlphaReductaseInhibitors,
  valueSetReAlphaBlockers,
  valueSetReAntidepressants,
  valueSetReAntipsychotics,
  valueSetReConditions,
  valueSetReDiabetesType,
  valueSetReEdAetiology,
  valueSetReEvidenceBasis,
  valueSetReLabTests,
  valueSetReOnsetType,
  valueSetReOtherRiskDrugs,
  valueSetReParaplegiaExtent,
  valueSetRePartnerStatus,
  valueSetRePeuMethod,
  valueSetRePriorDrugTrial,
  valueSetReRiskMedications,
  valueSetReRule,
  valueSetReSurgicalHistory,
  valueSetReTreatmentMedications,
  valueSetReWhoEdition,
] as Resource[];
