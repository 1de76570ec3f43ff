"""Applications for an NPQ and their endorsement (issue 4)."""
