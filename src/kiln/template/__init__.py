"""The template language: pure parsing, functions and validation with no I/O."""
