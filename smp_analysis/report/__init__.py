"""Build the HTML appendix: run the chapters with papermill, join them, render, write atomically."""

from .build import AppendixError, build_appendix

__all__ = ["AppendixError", "build_appendix"]
