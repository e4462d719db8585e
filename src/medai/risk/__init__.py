"""Risk scores and early warning on vitals and labs (NEWS2 now; sepsis, readmission next)."""
