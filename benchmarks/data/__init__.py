"""Benchmark data: real recordings, generated calls in several conditions, exact references."""

__all__: list[str] = []
