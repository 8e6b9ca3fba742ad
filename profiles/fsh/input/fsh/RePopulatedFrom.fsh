Extension: RePopulatedFrom
Id: re-populated-from
Title: "RE populated from"
Description: "A record of the patient's that an answer pre-filled by SDC $populate was read from (a Condition, MedicationRequest, MedicationStatement, Procedure or Observation). One extension per record. R4 has no item-level source extension, and SDC's Provenance cannot point at one item of a response."
Context: QuestionnaireResponse.item
* insert ReMetadata
* ^purpose = "The clinician confirms every pre-filled answer: this shows which entries of the record each one rests on, so that none is silently authoritative."
* extension 0..0
* value[x] 1..1
* value[x] only Reference(Condition or MedicationRequest or MedicationStatement or Procedure or Observation)
