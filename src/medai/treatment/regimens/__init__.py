"""Guideline drug regimens for type 2 diabetes (ADA 2025) and hypertension (2017 ACC/AHA).

``medai.treatment.regimens.diabetes.diabetes_plan`` and
``medai.treatment.regimens.hypertension.hypertension_plan`` take a
``medai.treatment.patient_context.PatientContext`` and return a ``RegimenPlan``: the target,
the guideline steps that apply now, and drug classes ranked for the patient, each with its
reasons, restrictions and citations. The rules themselves are versioned YAML in
``assets/knowledge/treatment/``.
"""
