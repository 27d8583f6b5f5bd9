"""The HTTP API: Heat's Orchestration API v1 over Kiln's service layer."""
