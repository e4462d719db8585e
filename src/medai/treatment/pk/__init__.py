"""Pharmacokinetics: one-compartment infusion superposition and Bayesian MAP estimation of individual parameters."""
