"""Vocabulary of the synthetic hospital: conditions, medications, allergies, names.

The codes are public terminology facts (SNOMED CT, ICD-10-CM, RxNorm, LOINC).  Each
condition carries what the other modules need to stay consistent with it: the units that
admit it, the symptoms a note may mention, the findings a note must *not* negate, the
usual medications, and how it shifts a patient's physiological baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

MEDICAL, SURGICAL, ICU, CARDIO = "Ward 5A (medical)", "Ward 3B (surgical)", "ICU", "Ward 4C (cardiology)"
UNITS: tuple[str, ...] = (MEDICAL, SURGICAL, ICU, CARDIO)
UNIT_WEIGHTS: tuple[float, ...] = (0.40, 0.25, 0.20, 0.15)


@dataclass(frozen=True)
class ConditionDef:
    key: str
    snomed: tuple[str, str]
    icd10: tuple[str, str]
    text: str  # how a clinician writes it in a note
    units: tuple[str, ...] = ()  # units that admit it as the main problem; () = comorbidity only
    infection: bool = False
    symptoms: tuple[str, ...] = ()
    excludes: frozenset[str] = frozenset()  # negatable findings that would contradict it
    meds: tuple[str, ...] = ()
    plan: str = ""
    follow_up: str = ""
    shifts: tuple[tuple[str, float], ...] = ()  # baseline shifts (physiology keys)


def _c(key, snomed, icd10, text, **kw) -> ConditionDef:
    kw["excludes"] = frozenset(kw.get("excludes", ()))
    return ConditionDef(key, snomed, icd10, text, **kw)


CONDITIONS: dict[str, ConditionDef] = {c.key: c for c in (
    # -- main problems of the current admission ------------------------------------------
    _c("pneumonia", ("385093006", "Community acquired pneumonia"), ("J18.9", "Pneumonia, unspecified organism"),
       "community-acquired pneumonia", units=(MEDICAL, ICU), infection=True,
       symptoms=("productive cough", "shortness of breath"), excludes={"cough", "shortness of breath"},
       meds=("ceftriaxone",), plan="Continue IV ceftriaxone, incentive spirometry, wean oxygen as tolerated.",
       follow_up="Repeat chest X-ray in 6 weeks to document resolution.", shifts=(("rr", 2), ("spo2", -2))),
    _c("uti", ("68566005", "Urinary tract infectious disease"),
       ("N39.0", "Urinary tract infection, site not specified"),
       "urinary tract infection", units=(MEDICAL,), infection=True,
       symptoms=("dysuria", "urinary frequency"), excludes={"dysuria", "abdominal pain"},
       meds=("ceftriaxone",), plan="Continue ceftriaxone pending urine culture sensitivities.",
       follow_up="Follow up with primary care in 1 week after discharge."),
    _c("cellulitis", ("128045006", "Cellulitis"), ("L03.90", "Cellulitis, unspecified"),
       "cellulitis of the left lower leg", units=(MEDICAL, SURGICAL), infection=True,
       symptoms=("redness and swelling of the left lower leg",), excludes={"leg swelling"},
       meds=("vancomycin",), plan="Continue IV vancomycin with trough monitoring; margins of erythema marked.",
       follow_up="Wound clinic follow-up in 10 days."),
    _c("cholecystitis", ("65275009", "Acute cholecystitis"), ("K81.0", "Acute cholecystitis"),
       "acute cholecystitis", units=(SURGICAL,), infection=True,
       symptoms=("right upper quadrant pain", "nausea"), excludes={"abdominal pain", "nausea", "vomiting"},
       meds=("piptazo",), plan="NPO, IV piperacillin-tazobactam, surgical review for cholecystectomy.",
       follow_up="Outpatient surgical follow-up in 2 weeks.", shifts=(("bili", 0.6),)),
    _c("appendicitis", ("85189001", "Acute appendicitis"), ("K35.80", "Unspecified acute appendicitis"),
       "acute appendicitis, status post laparoscopic appendectomy", units=(SURGICAL,), infection=True,
       symptoms=("right lower quadrant pain", "anorexia"), excludes={"abdominal pain", "nausea", "vomiting"},
       meds=("piptazo",), plan="Advance diet as tolerated, continue antibiotics for 24 hours post-op.",
       follow_up="Surgical clinic follow-up in 2 weeks for wound check."),
    _c("heart_failure", ("84114007", "Heart failure"), ("I50.9", "Heart failure, unspecified"),
       "acute on chronic heart failure", units=(CARDIO, MEDICAL),
       symptoms=("dyspnea on exertion", "orthopnea", "bilateral ankle edema"),
       excludes={"shortness of breath", "leg swelling"}, meds=("furosemide", "metoprolol"),
       plan="Diuresis with furosemide, daily weights, strict fluid balance, 2 g sodium diet.",
       follow_up="Cardiology follow-up in 2 weeks; repeat echocardiogram in 3 months.",
       shifts=(("rr", 2), ("spo2", -1.5))),
    _c("nstemi", ("401314000", "Acute non-ST segment elevation myocardial infarction"),
       ("I21.4", "Non-ST elevation (NSTEMI) myocardial infarction"),
       "NSTEMI", units=(CARDIO, ICU), symptoms=("substernal chest pressure", "diaphoresis"),
       excludes={"chest pain"}, meds=("aspirin", "clopidogrel", "metoprolol", "heparin"),
       plan="Dual antiplatelet therapy, heparin infusion, cardiology to plan coronary angiography.",
       follow_up="Cardiac rehabilitation referral and cardiology clinic in 4 weeks."),
    _c("afib", ("49436004", "Atrial fibrillation"), ("I48.91", "Unspecified atrial fibrillation"),
       "atrial fibrillation with rapid ventricular response", units=(CARDIO,),
       symptoms=("palpitations",), excludes={"palpitations"}, meds=("metoprolol", "apixaban"),
       plan="Rate control with metoprolol, anticoagulation with apixaban (CHA2DS2-VASc reviewed).",
       follow_up="Follow up with cardiology in 4 weeks for rhythm review.", shifts=(("hr", 14),)),
    _c("hip_fracture", ("5913000", "Fracture of neck of femur"),
       ("S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"),
       "right femoral neck fracture after a mechanical fall", units=(SURGICAL,),
       symptoms=("right hip pain",), meds=("acetaminophen", "enoxaparin"),
       plan="Post-operative day 1 after hemiarthroplasty; physiotherapy, VTE prophylaxis.",
       follow_up="Orthopedic clinic follow-up in 6 weeks with X-ray."),
    _c("bowel_obstruction", ("81060008", "Intestinal obstruction"),
       ("K56.609", "Unspecified intestinal obstruction, unspecified as to partial versus complete obstruction"),
       "small bowel obstruction", units=(SURGICAL,), symptoms=("abdominal distension", "vomiting"),
       excludes={"abdominal pain", "nausea", "vomiting"}, meds=("heparin",),
       plan="Nasogastric decompression, IV fluids, serial abdominal examinations.",
       follow_up="General surgery clinic follow-up in 2 weeks."),
    _c("gi_bleed", ("74474003", "Gastrointestinal hemorrhage"), ("K92.2", "Gastrointestinal hemorrhage, unspecified"),
       "upper gastrointestinal bleed", units=(MEDICAL, ICU), symptoms=("melena", "lightheadedness"),
       excludes={"abdominal pain"}, meds=(),
       plan="Transfuse to hemoglobin above 7 g/dL, hold anticoagulation, gastroenterology for endoscopy.",
       follow_up="Repeat CBC in the morning; gastroenterology follow-up in 4 weeks.", shifts=(("hr", 8), ("sbp", -8))),
    _c("stroke", ("422504002", "Ischemic stroke"), ("I63.9", "Cerebral infarction, unspecified"),
       "acute ischemic stroke", units=(MEDICAL, ICU), symptoms=("left-sided weakness", "slurred speech"),
       excludes={"weakness"}, meds=("aspirin", "simvastatin"),
       plan="Neurological checks every 4 hours, swallow screen, permissive hypertension.",
       follow_up="Stroke clinic follow-up in 6 weeks.", shifts=(("sbp", 10),)),
    _c("pulmonary_embolism", ("59282003", "Pulmonary embolism"),
       ("I26.99", "Other pulmonary embolism without acute cor pulmonale"),
       "pulmonary embolism", units=(MEDICAL, ICU), symptoms=("pleuritic chest pain", "dyspnea"),
       excludes={"chest pain", "shortness of breath"}, meds=("apixaban",),
       plan="Anticoagulation with apixaban, ambulate as tolerated.",
       follow_up="Hematology follow-up in 3 months to decide duration of anticoagulation.",
       shifts=(("hr", 10), ("rr", 3), ("spo2", -2))),
    _c("copd_exacerbation", ("195951007", "Acute exacerbation of chronic obstructive airways disease"),
       ("J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation"),
       "COPD exacerbation", units=(MEDICAL, ICU), infection=True,
       symptoms=("wheezing", "increased sputum production"), excludes={"cough", "shortness of breath"},
       meds=("ceftriaxone",), plan="Nebulised bronchodilators, systemic steroids, target SpO2 88-92%.",
       follow_up="Pulmonary rehabilitation referral and spirometry in 8 weeks.", shifts=(("rr", 3), ("spo2", -4))),
    _c("respiratory_failure", ("65710008", "Acute respiratory failure"),
       ("J96.01", "Acute respiratory failure with hypoxia"),
       "acute hypoxic respiratory failure", units=(ICU,), symptoms=("increased work of breathing",),
       excludes={"shortness of breath"}, meds=("ceftriaxone",),
       plan="High-flow nasal oxygen, prone positioning trial, reassess for intubation if worsening.",
       follow_up="ICU follow-up clinic referral after discharge.", shifts=(("rr", 5), ("spo2", -3), ("hr", 8))),
    # -- comorbidities ----------------------------------------------------------------------
    _c("hypertension", ("59621000", "Essential hypertension"), ("I10", "Essential (primary) hypertension"),
       "hypertension", meds=("lisinopril", "amlodipine", "hctz"), shifts=(("sbp", 14), ("dbp", 6))),
    _c("diabetes", ("44054006", "Diabetes mellitus type 2"),
       ("E11.9", "Type 2 diabetes mellitus without complications"),
       "type 2 diabetes mellitus", meds=("metformin",), shifts=(("glucose", 55),)),
    _c("hyperlipidemia", ("55822004", "Hyperlipidemia"), ("E78.5", "Hyperlipidemia, unspecified"),
       "hyperlipidemia", meds=("simvastatin",)),
    _c("ckd", ("709044004", "Chronic kidney disease"), ("N18.9", "Chronic kidney disease, unspecified"),
       "chronic kidney disease", shifts=(("creat", 0.9),)),
    _c("copd", ("13645005", "Chronic obstructive lung disease"),
       ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
       "COPD", shifts=(("spo2", -2.5), ("rr", 1))),
    _c("hypothyroidism", ("40930008", "Hypothyroidism"), ("E03.9", "Hypothyroidism, unspecified"), "hypothyroidism"),
    _c("chronic_afib", ("49436004", "Atrial fibrillation"), ("I48.91", "Unspecified atrial fibrillation"),
       "paroxysmal atrial fibrillation", meds=("apixaban",), shifts=(("hr", 6),)),
)}

COMORBIDITIES: tuple[str, ...] = tuple(k for k, c in CONDITIONS.items() if not c.units)


@dataclass(frozen=True)
class MedDef:
    key: str
    rxnorm: str
    display: str
    name: str  # short name for notes
    dose: float
    dose_unit: tuple[str, str]  # (UCUM code, human unit)
    route: tuple[str, str]  # SNOMED route
    per_day: int
    sig: str
    prn: bool = False


ORAL, IV, SUBCUT = ("26643006", "Oral route"), ("47625008", "Intravenous route"), ("34206005", "Subcutaneous route")
MG, G, UNITS_IU = ("mg", "mg"), ("g", "g"), ("[iU]", "units")

MEDICATIONS: dict[str, MedDef] = {m.key: m for m in (
    MedDef("ceftriaxone", "1665021", "ceftriaxone 1000 MG Injection", "ceftriaxone", 1, G, IV, 1,
           "Ceftriaxone 1 g IV every 24 hours"),
    MedDef("piptazo", "1659149", "piperacillin 4000 MG / tazobactam 500 MG Injection", "piperacillin-tazobactam",
           4.5, G, IV, 4, "Piperacillin-tazobactam 4.5 g IV every 6 hours"),
    MedDef("vancomycin", "1807513", "vancomycin 1000 MG Injection", "vancomycin", 1, G, IV, 2,
           "Vancomycin 1 g IV every 12 hours, adjust to trough"),
    MedDef("metoprolol", "866924", "metoprolol tartrate 25 MG Oral Tablet", "metoprolol", 25, MG, ORAL, 2,
           "Metoprolol tartrate 25 mg by mouth twice daily; hold if SBP < 100 or HR < 55"),
    MedDef("apixaban", "1364445", "apixaban 5 MG Oral Tablet", "apixaban", 5, MG, ORAL, 2,
           "Apixaban 5 mg by mouth twice daily"),
    MedDef("enoxaparin", "854235", "0.4 ML enoxaparin sodium 100 MG/ML Prefilled Syringe", "enoxaparin", 40, MG,
           SUBCUT, 1, "Enoxaparin 40 mg subcutaneously once daily for VTE prophylaxis"),
    MedDef("heparin", "1361615", "heparin sodium, porcine 5000 UNT/ML Injectable Solution", "heparin", 5000,
           UNITS_IU, SUBCUT, 3, "Heparin 5000 units subcutaneously every 8 hours"),
    MedDef("furosemide", "313988", "furosemide 40 MG Oral Tablet", "furosemide", 40, MG, ORAL, 1,
           "Furosemide 40 mg by mouth once daily"),
    MedDef("lisinopril", "314076", "lisinopril 10 MG Oral Tablet", "lisinopril", 10, MG, ORAL, 1,
           "Lisinopril 10 mg by mouth once daily"),
    MedDef("amlodipine", "197361", "amlodipine 5 MG Oral Tablet", "amlodipine", 5, MG, ORAL, 1,
           "Amlodipine 5 mg by mouth once daily"),
    MedDef("hctz", "310798", "hydrochlorothiazide 25 MG Oral Tablet", "hydrochlorothiazide", 25, MG, ORAL, 1,
           "Hydrochlorothiazide 25 mg by mouth once daily"),
    MedDef("metformin", "861007", "metformin hydrochloride 500 MG Oral Tablet", "metformin", 500, MG, ORAL, 2,
           "Metformin 500 mg by mouth twice daily with meals"),
    MedDef("simvastatin", "312961", "simvastatin 20 MG Oral Tablet", "simvastatin", 20, MG, ORAL, 1,
           "Simvastatin 20 mg by mouth at bedtime"),
    MedDef("aspirin", "243670", "aspirin 81 MG Chewable Tablet", "aspirin", 81, MG, ORAL, 1,
           "Aspirin 81 mg by mouth once daily"),
    MedDef("clopidogrel", "309362", "clopidogrel 75 MG Oral Tablet", "clopidogrel", 75, MG, ORAL, 1,
           "Clopidogrel 75 mg by mouth once daily"),
    MedDef("acetaminophen", "313782", "acetaminophen 325 MG Oral Tablet", "acetaminophen", 650, MG, ORAL, 4,
           "Acetaminophen 650 mg by mouth every 6 hours as needed for pain or fever", prn=True),
)}

ANTICOAGULANTS = frozenset({"apixaban", "heparin", "enoxaparin"})


@dataclass(frozen=True)
class AllergyDef:
    key: str
    coding: tuple[str, str, str]  # (system, code, display)
    category: str
    type: str
    criticality: str
    reaction: tuple[str, str]  # SNOMED manifestation
    severity: str
    avoid: frozenset[str] = frozenset()  # medication keys this allergy forbids


ALLERGIES: tuple[AllergyDef, ...] = (
    AllergyDef("penicillin", (SNOMED, "91936005", "Allergy to penicillin"), "medication", "allergy", "high",
               ("126485001", "Urticaria"), "moderate", frozenset({"piptazo"})),
    AllergyDef("sulfa", (RXNORM, "10180", "sulfamethoxazole"), "medication", "allergy", "low",
               ("271807003", "Eruption of skin"), "mild"),
    AllergyDef("codeine", (RXNORM, "2670", "codeine"), "medication", "intolerance", "low",
               ("422587007", "Nausea"), "mild"),
    AllergyDef("ibuprofen", (RXNORM, "5640", "ibuprofen"), "medication", "intolerance", "low",
               ("422587007", "Nausea"), "mild"),
    AllergyDef("latex", (SNOMED, "300916003", "Latex allergy"), "environment", "allergy", "low",
               ("40275004", "Contact dermatitis"), "mild"),
    AllergyDef("peanut", (SNOMED, "91935009", "Allergy to peanuts"), "food", "allergy", "high",
               ("39579001", "Anaphylaxis"), "severe"),
)

# Findings a note may deny ("denies chest pain"), unless the patient's conditions or vitals
# contradict them.
NEGATABLE: tuple[str, ...] = (
    "chest pain", "shortness of breath", "fever", "chills", "nausea", "vomiting", "abdominal pain",
    "headache", "dysuria", "leg swelling", "palpitations", "cough", "weakness",
)

FAMILY_HISTORY: tuple[str, ...] = (
    "Family history of coronary artery disease in father.", "Mother had type 2 diabetes.",
    "Family history of colon cancer in maternal grandmother.", "Brother with hypertension.",
    "No family history of bleeding disorders.", "Family history is noncontributory.",
)
SOCIAL_HISTORY: tuple[str, ...] = (
    "Former smoker, quit 10 years ago. Drinks alcohol socially.", "Never smoker. Denies alcohol or drug use.",
    "Current smoker, 1 pack per day. Denies illicit drug use.", "Lives alone, independent with daily activities.",
    "Lives with spouse. Retired teacher. No alcohol use.",
)

GIVEN_FEMALE = ("Maria", "Aisha", "Elena", "Grace", "Mei", "Fatima", "Olivia", "Sofia", "Priya", "Hannah",
                "Ngozi", "Ingrid", "Lucia", "Yuki", "Rosa", "Margaret", "Amara", "Chloe", "Leila", "Ruth")
GIVEN_MALE = ("James", "Mohammed", "Luis", "Wei", "Daniel", "Kwame", "Arjun", "Thomas", "Mateo", "Samuel",
              "Hiroshi", "Ivan", "David", "Omar", "George", "Felix", "Tariq", "Robert", "Andre", "Nikolai")
FAMILY = ("Garcia", "Okafor", "Nguyen", "Smith", "Patel", "Kowalski", "Haddad", "Johansson", "Silva", "Kim",
          "Mensah", "O'Brien", "Rossi", "Tanaka", "Dubois", "Cohen", "Hernandez", "Ivanova", "Abbott", "Chen",
          "Novak", "Ramirez", "Osei", "Fischer", "Singh", "Murphy", "Lopez", "Yilmaz", "Bianchi", "Walker")
STREETS = ("Maple Avenue", "Harbor Road", "Elm Street", "Cedar Lane", "Mill Road", "Park Street",
           "Orchard Way", "Station Road", "Birch Drive", "Lakeview Terrace", "Church Street", "Hillcrest Court")
CITIES = (("Riverton", "MA", "017"), ("Fairview", "MA", "019"), ("Lakeside", "MA", "018"),
          ("Brookfield", "MA", "015"), ("Millbury", "MA", "016"))
CLINICIANS = ("Dr. A. Mensah", "Dr. L. Fischer", "Dr. R. Patel", "Dr. S. Novak", "Dr. J. Ramirez",
              "Dr. K. Tanaka", "Dr. E. Walker")
