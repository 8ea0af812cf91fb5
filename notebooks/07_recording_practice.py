# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
params_file = "../params/2023-24.yaml"

# %%
from smp_analysis.report import Assessment
from smp_analysis.topics import recording

sa = Assessment.open(params_file)
display(sa.notice())
result = recording.compute(sa)

# %% [markdown]
# # Recording practice and the real change in crime
#
# When police tighten how they record crime, recorded crime rises even if crime does not.
# Years either side of such a change cannot be compared directly. This chapter estimates how
# much a recording change added to recorded crime, and what the change between the two periods
# would have been without it.

# %%
display(result.summary())

# %%
display(result.table())

# %%
display(result.details())

# %%
display(result.figures())
