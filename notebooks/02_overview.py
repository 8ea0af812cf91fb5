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
from smp_analysis.topics import overview

sa = Assessment.open(params_file)
display(sa.notice())
result = overview.compute(sa)

# %% [markdown]
# # Overview of recorded crime and anti-social behaviour

# %%
display(result.intro())

# %%
display(result.summary())

# %%
display(result.groups_table())

# %%
display(result.trend_figure())

# %% [markdown]
# ## Change by crime type

# %%
display(result.types_summary())

# %%
display(result.types_table())

# %%
display(result.types_figure())
