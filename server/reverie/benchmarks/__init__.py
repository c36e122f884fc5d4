"""Benchmarks behind ``reverie bench``: the Keras example as a baseline, timing, memory and GPU figures."""
