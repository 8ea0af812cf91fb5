"""Readers: each knows one file format, validates it, and returns rows plus quarantine."""
