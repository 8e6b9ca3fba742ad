Extension: ReRule
Id: re-rule
Title: "RE rule"
Description: "The rule of the retrograde ejaculation evaluation (R1 to R12, or INF and RF for the extraction rules) that produced or justifies the resource or action carrying it, coded in CodeSystem re-rule. It makes every extracted Condition, every CarePlan and every proposed action traceable to one rule."
Context: Condition, Observation, CarePlan, RequestGroup.action, ServiceRequest, MedicationRequest, CommunicationRequest, Task, PlanDefinition.action
* insert ReMetadata
* ^purpose = "Traceability: a reader of the record can see which rule of the evaluation produced each finding and each proposal. A resource carries one rule, except a CarePlan, which lists every rule applied; the profiles that use this extension set that cardinality."
* extension 0..0
* value[x] 1..1
* value[x] only Coding
* value[x] from http://re-fhir.org/fhir/ValueSet/re-rule (required)
