"""Kiln: cloud orchestration for Heat (HOT) and CloudFormation templates."""

__version__ = "0.1.0"
