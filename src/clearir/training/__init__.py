"""Fine-tuning: ``TrainConfig`` (:mod:`.config`) -> ``train(config) -> TrainResult`` (:mod:`.trainer`).

The trainer is sentence-transformers' ``SentenceTransformerTrainer`` with a no-duplicates batch sampler, the
clearir losses (:mod:`.losses` maps their names), per-column token limits (:mod:`.collator`), frozen word
embeddings or lower layers (:mod:`.freeze`), per-component loss logs (:mod:`.callbacks`), resumable run
directories (:mod:`.rundir`) and a model card listing every hyperparameter (:mod:`.model_card`).
"""
