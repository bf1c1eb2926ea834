"""``clearir ablate``: a grid of fine-tuning runs with paired statistics.

``settings`` (what a run is made of, ids), ``grid`` (TOML/flags -> ordered runs, shards), ``store`` (the
ablation directory, done markers, reading results back), ``runner`` (runs a shard, reusing rows, embeddings
and finished runs), ``analysis`` (paired tests, mean ± std over seeds, Holm, verdicts), ``plots``, ``render``
and ``report`` (ablation.json, summary.md, report.html). Entry points: ``grid.load_plan``,
``runner.run_ablation``, ``report.write_ablation_report``.
"""
