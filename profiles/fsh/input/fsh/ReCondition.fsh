Profile: ReCondition
Parent: Condition
Id: re-condition
Title: "RE Condition"
Description: "A Condition produced by the re-fhir evaluation of retrograde ejaculation: the retrograde ejaculation itself, related findings (anejaculation, erectile dysfunction, premature ejaculation, male infertility) and the risk-factor conditions taken from the evaluation QuestionnaireResponse. Each instance names the rule that produced it, carries a deterministic identifier (so a re-submission updates rather than duplicates), and points at its evidence."
* insert ReMetadata
* ^purpose = "Derives from the R4 base Condition: US Core is not available to the offline build, so it is not the parent. The profile is built not to conflict with US Core Condition Problems and Health Concerns (http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns). Both require category (1..*), code (1..1) and subject (1..1); US Core further requires a category from its problem-or-health-concern value set and a subject that is a US Core Patient, and neither is forbidden here, so an instance with category problem-list-item and an ICD-10-CM coding (a vocabulary US Core names) can claim both profiles. The elements US Core marks must-support (clinicalStatus, verificationStatus, recordedDate) are required here."
* extension contains ReRule named rule 1..1
* extension[rule].value[x] 1..1
* identifier 1..*
* clinicalStatus 1..1
* verificationStatus 1..1
* category 1..*
* code 1..1
* code from http://re-fhir.org/fhir/ValueSet/re-conditions (required)
* code.coding 1..*
* subject 1..1
* subject only Reference(Patient)
* recordedDate 1..1
* evidence 1..*
* evidence.detail 1..*
* obeys re-con-1

Invariant: re-con-1
Description: "Every evidence entry references its detail (evidence.detail 1..*, restated at the root for validators that do not apply profiles inside backbone elements)."
Expression: "evidence.all(detail.exists())"
Severity: #error
