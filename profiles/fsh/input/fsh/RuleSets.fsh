// Metadata shared by every re-fhir StructureDefinition (url and name come from each definition).
RuleSet: ReMetadata
* ^version = "0.1.0"
* ^status = #active
* ^experimental = false
* ^date = "2026-11-27"
* ^publisher = "re-fhir"
* ^jurisdiction = http://unstats.un.org/unsd/methods/m49/m49.htm#001 "World"
