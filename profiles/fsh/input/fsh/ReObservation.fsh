Profile: ReObservation
Parent: Observation
Id: re-observation
Title: "RE Observation"
Description: "An Observation extracted from the re-fhir evaluation QuestionnaireResponse (for example a semen analysis or post-ejaculatory urinalysis result). It has a deterministic identifier, names its patient and time, and points back at the QuestionnaireResponse it was derived from."
* insert ReMetadata
* ^purpose = "Derives from the R4 base Observation (US Core is not available to the offline build) and claims no US Core profile. Its constraints (status and code as in R4, subject a Patient, effective[x] present) do not conflict with the US Core Observation profiles, so an instance can also meet one of them by carrying the category that profile requires."
* identifier 1..*
* status 1..1
* code 1..1
* subject 1..1
* subject only Reference(Patient)
* effective[x] 1..1
* derivedFrom 1..*
