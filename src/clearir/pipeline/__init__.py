"""The main job end to end (``clearir run``): base model, training rows, fine-tuning per (language, loss),
evaluation of every model, and the report; every finished step is reused when the run is repeated.

Entry point: ``clearir.pipeline.run.run_pipeline(RunConfig(...))`` (imported from its module: it loads torch).
"""
