"""Mental-health support: flows as data (mood check-in, PHQ-9, GAD-7, CBT thought record, behavioural
activation, grounding, breathing, psychoeducation), a flow engine screened by the safety layer, and the
cognitive-distortion detector."""
