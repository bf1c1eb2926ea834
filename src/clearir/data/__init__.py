"""Data access: typed records for parallel QA corpora and their readers."""
