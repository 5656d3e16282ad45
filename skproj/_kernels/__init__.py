"""Cython kernels: no validation, typed memoryviews, GIL released. Use the public modules instead."""
