# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
params_file = "../params/2023-24.yaml"

# %%
from IPython.display import Markdown, display

from smp_analysis import narrative, plots, tables
from smp_analysis.assessment import Assessment

sa = Assessment.open(params_file)
if sa.synthetic:
    display(tables.synthetic_banner())

# %% [markdown]
# # 6. Recording practice and the real change in crime
#
# When police tighten how they record crime, recorded crime rises even if crime does not.
# Years either side of such a change cannot be compared directly. This chapter estimates how
# much a recording change added to recorded crime, and what the change between the two periods
# would have been without it.

# %%
adjustments = sa.recording_adjustments()
display(Markdown(narrative.recording_overview(adjustments)))

# %%
display(tables.recording_table(
    adjustments, f"Table 6.1: Recorded and recording-adjusted change, {sa.focus_name}, "
                 f"{sa.previous.name} to {sa.current.name}") if adjustments else "")

# %%
display(Markdown(narrative.recording_sentences(adjustments, sa.focus_name, sa.comparison_name,
                                               sa.current, sa.previous)))

# %%
display(*plots.recording_charts(adjustments, area_name=sa.focus_name, period=sa.current,
                                synthetic=sa.synthetic))
