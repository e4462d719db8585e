"""Virtual health assistant: symptom checker, mental-health support, crisis safety, scheduling and reminders."""
