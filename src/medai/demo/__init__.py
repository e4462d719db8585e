"""Synthetic demo hospital: seeded FHIR R4 bundles and a live vital-sign stream.

``generate_hospital`` builds one transaction Bundle per inpatient; ``vital_stream``
continues their vital signs for live replay (``medai serve --demo``).  Nothing here is
real patient data.
"""

from medai.demo.generator import generate_hospital, trajectory_classes
from medai.demo.stream import vital_stream

__all__ = ["generate_hospital", "trajectory_classes", "vital_stream"]
