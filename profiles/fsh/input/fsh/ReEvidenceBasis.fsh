Extension: ReEvidenceBasis
Id: re-evidence-basis
Title: "RE evidence basis"
Description: "What a recommendation of the retrograde ejaculation evaluation rests on, coded in CodeSystem re-evidence-basis: G guideline text, L laboratory practice, S study data, C convention or derivation by this module. It is a statement of provenance, not a GRADE rating."
Context: PlanDefinition.action, RequestGroup.action
* insert ReMetadata
* ^purpose = "Lets a clinician weigh each proposed action by where it comes from. An action may carry several bases (for example guideline text and study data)."
* extension 0..0
* value[x] 1..1
* value[x] only Coding
* value[x] from http://re-fhir.org/fhir/ValueSet/re-evidence-basis (required)
