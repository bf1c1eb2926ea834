"""Metrics as pure functions: standard ranking metrics (``ranking``), multi-gold pool metrics such as Max@R,
Complete@k and English inclination (``multigold``), and significance statistics (``significance``)."""
