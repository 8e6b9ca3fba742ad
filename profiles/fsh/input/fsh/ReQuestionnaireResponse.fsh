Profile: ReQuestionnaireResponse
Parent: QuestionnaireResponse
Id: re-questionnaireresponse
Title: "RE QuestionnaireResponse"
Description: "A QuestionnaireResponse to the re-fhir evaluation Questionnaire, as accepted for extraction: it names the Questionnaire it answers, the patient it is about, and when it was authored."
* insert ReMetadata
* ^purpose = "Derives from the R4 base QuestionnaireResponse (US Core is not available to the offline build) and claims no US Core profile. Extraction needs the Questionnaire canonical (to find the templates), the subject (every extracted resource is about that patient) and the authored time (it becomes the recorded date of the extracted Conditions)."
* questionnaire 1..1
* subject 1..1
* subject only Reference(Patient)
* authored 1..1
