"""Training rows for CLEAR: a small BM25, hard-negative mining and the row builder."""
