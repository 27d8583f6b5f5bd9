"""A generic directed-graph toolkit: no knowledge of resources or templates."""
