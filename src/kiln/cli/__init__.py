"""The kiln command line."""
