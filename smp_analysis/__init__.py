"""smp-analysis: Community Safety Partnership Strategic Assessment analysis.

Import the pieces you need, e.g. ``from smp_analysis.methods.change import compare_counts``,
or open an assessment as the chapter notebooks do::

    from smp_analysis.report import Assessment
    from smp_analysis.topics import overview
    sa = Assessment.open("params/2023-24.yaml")
    overview.compute(sa).groups_table()
"""

__version__ = "0.1.0"
