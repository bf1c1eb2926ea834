"""The experiment layer on top of the pipeline: an experiment is a grid of runs (languages or language mixes
× losses × settings × seeds) on one job layer; ``clearir run`` is its default grid, ``clearir ablate`` takes
any grid.

``settings`` (the settings model, built from the training, rows and evaluation settings; run ids), ``grid``
(TOML/flags -> ordered runs, shards), ``preset`` (``clearir run``'s grid), ``keys`` and ``store`` (the
experiment directory: step keys, reading finished runs back), ``steps`` (one finished-step record), ``jobs``
(the job layer: base model, rows, fine-tuning with resume, evaluation), ``runner`` (runs a shard),
``models_report`` (every model side by side: ``clearir run``'s report), ``analysis``, ``plots`` and
``report`` (paired tests over seeds and settings: ``clearir ablate``'s report). Entry points:
``grid.load_plan`` / ``preset.run_plan``, ``runner.run_experiment``, ``models_report.write_models_report``,
``report.write_ablation_report``.
"""
