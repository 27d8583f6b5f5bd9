"""Resource property and attribute schemas: the vocabulary shared by templates and plugins."""
