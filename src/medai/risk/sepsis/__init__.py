"""Sepsis early warning on hourly vitals and labs (PhysioNet/CinC 2019 challenge format)."""
