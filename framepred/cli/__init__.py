"""The framepred command-line interface (typer)."""
