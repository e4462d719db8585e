"""Renal dose adjustment: kidney function (CKD-EPI 2021, Cockcroft-Gault), a cited rule table, and
the adjusted FHIR MedicationRequest.

>>> from medai.treatment.renal import ckd_epi_2021
>>> round(ckd_epi_2021(1.0, 50, "male"), 1)
91.7
"""

from medai.treatment.renal.adjust import RenalRecommendation, recommend
from medai.treatment.renal.kidney import KidneyFunction, NoCreatinine, ckd_epi_2021, cockcroft_gault, estimate, from_records
from medai.treatment.renal.rules import rules

__all__ = ["KidneyFunction", "NoCreatinine", "RenalRecommendation", "ckd_epi_2021", "cockcroft_gault", "estimate",
           "from_records", "recommend", "rules"]
