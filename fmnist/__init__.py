"""Shared code of the Fashion-MNIST pipeline: IDX reading, params schema, models, plots."""
