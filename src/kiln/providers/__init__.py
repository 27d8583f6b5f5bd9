"""The resource plugin SDK: what providers implement and how they are found."""
