import type { Resource } from '@medplum/fhirtypes';
import activityDefinitionReAdBladderNeckReconstruction from '../../../profiles/ActivityDefinition-re-ad-bladder-neck-reconstruction.json';
import activityDefinitionReAdBrompheniramine from '../../../profiles/ActivityDefinition-re-ad-brompheniramine.json';
import activityDefinitionReAdCounselling from '../../../profiles/ActivityDefinition-re-ad-counselling.json';
import activityDefinitionReAdDesipramine from '../../../profiles/ActivityDefinition-re-ad-desipramine.json';
import activityDefinitionReAdDrugTrialCounselling from '../../../profiles/ActivityDefinition-re-ad-drug-trial-counselling.json';
import activityDefinitionReAdEphedrine from '../../../profiles/ActivityDefinition-re-ad-ephedrine.json';
import activityDefinitionReAdFsh from '../../../profiles/ActivityDefinition-re-ad-fsh.json';
import activityDefinitionReAdGlucose from '../../../profiles/ActivityDefinition-re-ad-glucose.json';
import activityDefinitionReAdHba1c from '../../../profiles/ActivityDefinition-re-ad-hba1c.json';
import activityDefinitionReAdImipramine from '../../../profiles/ActivityDefinition-re-ad-imipramine.json';
import activityDefinitionReAdLh from '../../../profiles/ActivityDefinition-re-ad-lh.json';
import activityDefinitionReAdMedicationReview from '../../../profiles/ActivityDefinition-re-ad-medication-review.json';
import activityDefinitionReAdMidodrine from '../../../profiles/ActivityDefinition-re-ad-midodrine.json';
import activityDefinitionReAdPelvicFloorPhysiotherapy from '../../../profiles/ActivityDefinition-re-ad-pelvic-floor-physiotherapy.json';
import activityDefinitionReAdPostEjaculatoryUrinalysis from '../../../profiles/ActivityDefinition-re-ad-post-ejaculatory-urinalysis.json';
import activityDefinitionReAdProlactin from '../../../profiles/ActivityDefinition-re-ad-prolactin.json';
import activityDefinitionReAdPseudoephedrine from '../../../profiles/ActivityDefinition-re-ad-pseudoephedrine.json';
import activityDefinitionReAdReassuranceEducation from '../../../profiles/ActivityDefinition-re-ad-reassurance-education.json';
import activityDefinitionReAdReferralMentalHealthSexual from '../../../profiles/ActivityDefinition-re-ad-referral-mental-health-sexual.json';
import activityDefinitionReAdReferralReproductiveMedicine from '../../../profiles/ActivityDefinition-re-ad-referral-reproductive-medicine.json';
import activityDefinitionReAdReferralSexualMedicine from '../../../profiles/ActivityDefinition-re-ad-referral-sexual-medicine.json';
import activityDefinitionReAdRelationshipCounselling from '../../../profiles/ActivityDefinition-re-ad-relationship-counselling.json';
import activityDefinitionReAdSemenAnalysis from '../../../profiles/ActivityDefinition-re-ad-semen-analysis.json';
import activityDefinitionReAdSeminalFructose from '../../../profiles/ActivityDefinition-re-ad-seminal-fructose.json';
import activityDefinitionReAdStopOrSwitchCulpritDrug from '../../../profiles/ActivityDefinition-re-ad-stop-or-switch-culprit-drug.json';
import activityDefinitionReAdSympathomimeticContraindicated from '../../../profiles/ActivityDefinition-re-ad-sympathomimetic-contraindicated.json';
import activityDefinitionReAdTestosterone from '../../../profiles/ActivityDefinition-re-ad-testosterone.json';
import activityDefinitionReAdTransrectalUltrasound from '../../../profiles/ActivityDefinition-re-ad-transrectal-ultrasound.json';
import activityDefinitionReAdTsh from '../../../profiles/ActivityDefinition-re-ad-tsh.json';
import activityDefinitionReAdUrinarySpermRetrieval from '../../../profiles/ActivityDefinition-re-ad-urinary-sperm-retrieval.json';
import operationDefinitionReEvaluate from '../../../profiles/OperationDefinition-re-evaluate.json';
import operationDefinitionRePlandefinitionApply from '../../../profiles/OperationDefinition-re-plandefinition-apply.json';
import planDefinitionReCdsOrderSign from '../../../profiles/PlanDefinition-re-cds-order-sign.json';
import planDefinitionReCdsPatientView from '../../../profiles/PlanDefinition-re-cds-patient-view.json';
import planDefinitionReManagementPathway from '../../../profiles/PlanDefinition-re-management-pathway.json';
import planDefinitionReRecAnejaculationWorkup from '../../../profiles/PlanDefinition-re-rec-anejaculation-workup.json';
import planDefinitionReRecBladderNeckSurgery from '../../../profiles/PlanDefinition-re-rec-bladder-neck-surgery.json';
import planDefinitionReRecCauseWorkup from '../../../profiles/PlanDefinition-re-rec-cause-workup.json';
import planDefinitionReRecCulpritDrug from '../../../profiles/PlanDefinition-re-rec-culprit-drug.json';
import planDefinitionReRecDrugTrial from '../../../profiles/PlanDefinition-re-rec-drug-trial.json';
import planDefinitionReRecPelvicFloorPhysiotherapy from '../../../profiles/PlanDefinition-re-rec-pelvic-floor-physiotherapy.json';
import planDefinitionReRecPostEjaculatoryUrinalysis from '../../../profiles/PlanDefinition-re-rec-post-ejaculatory-urinalysis.json';
import planDefinitionReRecReassurance from '../../../profiles/PlanDefinition-re-rec-reassurance.json';
import planDefinitionReRecReproductiveMedicine from '../../../profiles/PlanDefinition-re-rec-reproductive-medicine.json';
import planDefinitionReRecSemenAnalysis from '../../../profiles/PlanDefinition-re-rec-semen-analysis.json';
import planDefinitionReRecSexualPsychological from '../../../profiles/PlanDefinition-re-rec-sexual-psychological.json';
import planDefinitionReStrategyReferrals from '../../../profiles/PlanDefinition-re-strategy-referrals.json';
import planDefinitionReStrategyTests from '../../../profiles/PlanDefinition-re-strategy-tests.json';
import planDefinitionReStrategyTreatment from '../../../profiles/PlanDefinition-re-strategy-treatment.json';
import questionnaireReEvaluation from '../../../profiles/Questionnaire-re-evaluation.json';
import structureDefinitionReCareplan from '../../../profiles/StructureDefinition-re-careplan.json';
import structureDefinitionReCondition from '../../../profiles/StructureDefinition-re-condition.json';
import structureDefinitionReEvidenceBasis from '../../../profiles/StructureDefinition-re-evidence-basis.json';
import structureDefinitionReObservation from '../../../profiles/StructureDefinition-re-observation.json';
import structureDefinitionRePopulatedFrom from '../../../profiles/StructureDefinition-re-populated-from.json';
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
import valueSetReCdsEjaculatoryComplaints from '../../../valuesets/ValueSet-re-cds-ejaculatory-complaints.json';
import valueSetReCdsFertilityProblems from '../../../valuesets/ValueSet-re-cds-fertility-problems.json';
import valueSetReCdsRetrogradeEjaculation from '../../../valuesets/ValueSet-re-cds-retrograde-ejaculation.json';
import valueSetReCdsRiskConditions from '../../../valuesets/ValueSet-re-cds-risk-conditions.json';
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
  activityDefinitionReAdBladderNeckReconstruction,
  activityDefinitionReAdBrompheniramine,
  activityDefinitionReAdCounselling,
  activityDefinitionReAdDesipramine,
  activityDefinitionReAdDrugTrialCounselling,
  activityDefinitionReAdEphedrine,
  activityDefinitionReAdFsh,
  activityDefinitionReAdGlucose,
  activityDefinitionReAdHba1c,
  activityDefinitionReAdImipramine,
  activityDefinitionReAdLh,
  activityDefinitionReAdMedicationReview,
  activityDefinitionReAdMidodrine,
  activityDefinitionReAdPelvicFloorPhysiotherapy,
  activityDefinitionReAdPostEjaculatoryUrinalysis,
  activityDefinitionReAdProlactin,
  activityDefinitionReAdPseudoephedrine,
  activityDefinitionReAdReassuranceEducation,
  activityDefinitionReAdReferralMentalHealthSexual,
  activityDefinitionReAdReferralReproductiveMedicine,
  activityDefinitionReAdReferralSexualMedicine,
  activityDefinitionReAdRelationshipCounselling,
  activityDefinitionReAdSemenAnalysis,
  activityDefinitionReAdSeminalFructose,
  activityDefinitionReAdStopOrSwitchCulpritDrug,
  activityDefinitionReAdSympathomimeticContraindicated,
  activityDefinitionReAdTestosterone,
  activityDefinitionReAdTransrectalUltrasound,
  activityDefinitionReAdTsh,
  activityDefinitionReAdUrinarySpermRetrieval,
  operationDefinitionReEvaluate,
  operationDefinitionRePlandefinitionApply,
  planDefinitionReCdsOrderSign,
  planDefinitionReCdsPatientView,
  planDefinitionReManagementPathway,
  planDefinitionReRecAnejaculationWorkup,
  planDefinitionReRecBladderNeckSurgery,
  planDefinitionReRecCauseWorkup,
  planDefinitionReRecCulpritDrug,
  planDefinitionReRecDrugTrial,
  planDefinitionReRecPelvicFloorPhysiotherapy,
  planDefinitionReRecPostEjaculatoryUrinalysis,
  planDefinitionReRecReassurance,
  planDefinitionReRecReproductiveMedicine,
  planDefinitionReRecSemenAnalysis,
  planDefinitionReRecSexualPsychological,
  planDefinitionReStrategyReferrals,
  planDefinitionReStrategyTests,
  planDefinitionReStrategyTreatment,
  questionnaireReEvaluation,
  structureDefinitionReCareplan,
  structureDefinitionReCondition,
  structureDefinitionReEvidenceBasis,
  structureDefinitionReObservation,
  structureDefinitionRePopulatedFrom,
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
  valueSetReCdsEjaculatoryComplaints,
  valueSetReCdsFertilityProblems,
  valueSetReCdsRetrogradeEjaculation,
  valueSetReCdsRiskConditions,
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
