"""Benchmark of the summarize CLI against a naive transformers script: `python -m bench` (see README.md)."""
