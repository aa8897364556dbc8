"""The reviewer's tools: did a change make a model better, worse or no different, and did a rerun reproduce
the committed results? They read what the pipeline wrote (and what git holds of other revisions); the
pipeline never imports them.

- check.py, reproducibility.py   `make check`: this run against the results committed at a revision
- replica.py                     one replica of the seed study (seeds/dvc.yaml): a model retrained with one seed
- seeds.py                       the seed study's summary: each model's spread over seeds (metrics/seeds.json)
- study.py                       the seed study's files: where each replica's record lives, its predictions
- seed_queue.py                  `make seeds JOBS=N`: the replicas side by side in DVC's experiment queue
- stats.py                       the statistics behind every verdict and band (pure functions)
- revisions.py                   files as committed at a git revision
- report.py, pr_comment.py       `make report` and `make comment`: the pull-request page and its comment
- workflow.py                    the pull-request workflow's replica jobs: which models to rerun, one summary
- plots_page.py                  the offline page template of `dvc plots show` / `dvc plots diff`
"""
