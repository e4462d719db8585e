"""Personalised treatment: pharmacogenomic warfarin dosing, renal dose adjustment and Bayesian PK dosing.

Submodules are imported on demand (``medai.treatment.warfarin``, ``medai.treatment.renal``,
``medai.treatment.vancomycin``); importing this package loads nothing heavy.
"""
