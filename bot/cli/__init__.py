"""The `newsbot` command line: a thin layer over the core's Python API."""
