"""Command-line scripts (`make chaos`, the checks CI runs); the chaos trial's modules are imported
from here as ``scripts.chaos_*``."""
