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
import activityDefinitionReAdTestosterone from '../../../profiles/ActivityDefinition-re-ad-testosterone.json';
import activityDefinitionReAdTransrectalUltrasound from '../../../profiles/ActivityDefinition-re-ad-transrectal-ultrasound.json';
import activityDefinitionReAdUrinarySpermRetrieval from '../../../profiles/ActivityDefinition-re-ad-urinary-sperm-retrieval.json';
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

// Every shipped artefact in profiles/ and valuesets/, imported statically so that bundlers
// (the library build, the Medplum bot) inline them. test/core/conformance/content.test.ts fails
// when a file on disk is missing here. Keep the list sorted by path.

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
  activityDefinitionReAdTestosterone,
  activityDefinitionReAdTransrectalUltrasound,
  activityDefinitionReAdUrinarySpermRetrieval,
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
] as unknown[] as Resource[];
