"""Command-line entry points: parse, call the pipeline, render."""
