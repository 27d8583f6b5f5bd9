"""Pure planning: recorded state, steps, and the planner that compares them with a template."""
