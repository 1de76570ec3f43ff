"""Summative assessment windows, submissions and marking (issue 7)."""
