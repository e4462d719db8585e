"""Actionable cancer variants to therapies, from CIViC evidence.

``variants`` parses what the user has (``BRAF V600E``, HGVS ``p.``/``c.``, genomic positions, a
VCF or a MAF); ``diseases`` resolves the tumour type to Disease Ontology ids; ``matching`` finds
the CIViC evidence items for each variant and disease; ``therapies`` ranks therapies by evidence
level and direction into an ``OncologyReport``; ``fhir`` writes the report as a FHIR R4
``DiagnosticReport``.
"""
