"""Benchmarks of infocompress against peer packages (run with ``python -m benchmarks.run_all``)."""
