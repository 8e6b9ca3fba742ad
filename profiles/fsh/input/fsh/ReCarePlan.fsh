Profile: ReCarePlan
Parent: CarePlan
Id: re-careplan
Title: "RE CarePlan"
Description: "The CarePlan that PlanDefinition/$apply produces for the re-fhir evaluation of retrograde ejaculation: it instantiates exactly one PlanDefinition, carries a generated narrative and a title, lists every rule applied, addresses the Conditions the same evaluation produced (when it produced any), and references each proposed activity (a RequestGroup or a request) rather than describing it inline."
* insert ReMetadata
* ^purpose = "Derives from the R4 base CarePlan: US Core is not available to the offline build, so it is not the parent. The profile is built not to conflict with US Core CarePlan (http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan). US Core requires text (with a status), status, intent and subject (a US Core Patient), and in versions 6.1 to 8.0 also category; all of them are required here too (text 1..1, status, intent, category 1..*, subject 1..1 Reference(Patient)). US Core 6.1 and 7.0 require, and 8.0 allows, a category assess-plan; nothing here forbids it, so an instance carrying it and a generated or additional narrative can claim both profiles."
* extension contains ReRule named rule 1..*
* extension[rule].value[x] 1..1
* identifier 1..*
* instantiatesCanonical 1..1
* status 1..1
* intent 1..1
* category 1..*
* title 1..1
* text 1..1
* subject 1..1
* subject only Reference(Patient)
* addresses MS
* addresses only Reference(Condition)
* addresses ^comment = "The evaluation fills addresses with every Condition extracted from the same QuestionnaireResponse that is not refuted (the RE Conditions of this module). It is 0..*: a response can call for management, such as counselling for distress alone, without supporting any Condition, and then the CarePlan addresses none."
* activity 1..*
* activity.reference 1..1
* obeys re-cpl-1

Invariant: re-cpl-1
Description: "Every activity references its request or RequestGroup (activity.reference 1..1, restated at the root for validators that do not apply profiles inside backbone elements)."
Expression: "activity.all(reference.exists())"
Severity: #error
