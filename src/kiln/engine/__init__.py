"""Runs plans: steps through providers, state after every step, events, leases, recovery."""
