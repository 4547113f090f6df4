"""Training, evaluation and benchmark tools, kept apart from what the app imports at run time (as open_clip
keeps open_clip_train apart): `python -m clipdemo.tools.evaluate`, `… .pointing`, `… .bench`, `… .bench_learn`,
`… .bench_map`; `tokenizer_build` writes the tokenizer the trainer starts from."""
