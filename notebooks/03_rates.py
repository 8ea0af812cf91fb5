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
from smp_analysis.topics import rates

sa = Assessment.open(params_file)
display(sa.notice())
result = rates.compute(sa)

# %% [markdown]
# # Crime rates compared with other districts

# %%
display(result.intro())

# %%
display(result.summary())

# %%
display(result.figure())

# %%
display(result.table())

# %% [markdown]
# ## A fair comparison: funnel plot and rank interval
#
# A league-table rank hides how much of a district's position is chance. The funnel plot
# shows each district's rate against its population, with control limits around the county
# rate within which 95% and 99.8% of districts would fall if they differed only by chance
# (and, where the districts vary more than that, by their usual variation). The rank
# interval says which ranks the focus area could hold once chance variation in every
# district's count is allowed for.

# %%
display(result.funnel_summary())

# %%
display(result.funnel_figure())

# %% [markdown]
# ## Rates by crime type

# %%
display(result.types_summary())

# %%
display(result.types_table())
