"""Intrinsic functions of HOT and CloudFormation, one module per family."""
