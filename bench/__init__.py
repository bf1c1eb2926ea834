"""Benchmarks: speed and memory targets, measured side by side, written as JSON to bench/out/."""
