"""Warfarin dosing: IWPC algorithms, a learned dose model, CPIC genotype interpretation and INR titration."""
