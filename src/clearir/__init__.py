"""clearir: cross-lingual retrieval fine-tuning (CLEAR and baselines) and its evaluation."""

__version__ = "0.1.0"
