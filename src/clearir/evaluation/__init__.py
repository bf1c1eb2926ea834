"""Cross-lingual retrieval evaluation: scenarios as data (``scenarios``), encoding each unique text once
(``encoder``), exact or FAISS search (``search``), running tasks (``engine``) and MTEB-style output
(``results``)."""
