"""Measuring qa, kept apart from the runtime modules that answer questions.

- `gold`: the project's gold question format (questions, evidence units, answers) and matching
  of evidence to passages;
- `metrics`: retrieval and answer metrics with the standard definitions (ranx/pytrec_eval,
  the official SQuAD script);
- `evaluate`: `qa eval GOLD` — every retriever and the answer layer over a gold set;
- `public`: `qa eval --squad / --beir` — public benchmarks through the same pipeline;
- `speed`: `qa bench` — speed and memory on this machine (encoder, index build, latency,
  start-up, scaling, text extraction); `reindex`: its re-index and watch benchmark;
- `squad_split`: the fixed by-article train / validation / test split of the SQuAD dev files
  that the reader is trained, calibrated and reported on.

The runtime never imports this package (the answer layer's normalisation lives in qa.values).
"""
