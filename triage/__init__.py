"""EHC complaints intake triage: read the team inbox, classify, acknowledge, draft, queue for approval."""

__version__ = "0.1.0"
