"""One module per appendix topic: everything a chapter computes and shows lives in one place.

Each module has a frozen result dataclass (a :class:`~smp_analysis.report.context.TopicResult`)
and ``compute(sa)``, which runs the store queries and :mod:`smp_analysis.methods` calls for an
:class:`~smp_analysis.report.context.Assessment` and returns the result (cached on ``sa``). The
result presents itself through the report layer's builders: ``headlines()`` for the key
findings, and sentences, tables and figures for its chapter notebook. A topic whose inputs are
missing returns a result whose ``missing`` sentence says why; its other parts then show nothing.
"""
