Profile: ReProvenance
Parent: Provenance
Id: re-provenance
Title: "RE Provenance"
Description: "The Provenance written with every re-fhir evaluation: it targets the resources created, names the agents (the software and the author), and names the source QuestionnaireResponse as an entity, as SDC asks of extraction."
* insert ReMetadata
* ^purpose = "Derives from the R4 base Provenance, which already requires target, recorded and agent; this profile also requires entity, so the QuestionnaireResponse the resources came from is always recorded. US Core is not available to the offline build and no US Core profile is claimed; nothing here conflicts with US Core Provenance, whose required elements (target, recorded, agent) R4 already requires."
* target 1..*
* agent 1..*
* entity 1..*
