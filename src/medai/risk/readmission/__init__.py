"""30-day readmission risk: Diabetes 130 (LightGBM + embedding MLP, calibrated; LACE anchor) and a
text-aware variant for MIMIC-IV discharge summaries."""
