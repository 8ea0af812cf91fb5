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
from smp_analysis.topics import patterns

sa = Assessment.open(params_file)
display(sa.notice())
result = patterns.compute(sa)

# %% [markdown]
# # Patterns over time
#
# This chapter looks beyond the change on last year: how crime has moved over the past three
# and five years, whether growth is speeding up or slowing down, how the assessment year
# compares with the same months before the pandemic, how the district's change compares with
# the county's, and which crimes rise and fall with the seasons. Each year counts the same
# calendar months as the assessment period, and only months with data in every year compared,
# so that years compare like for like.

# %%
display(result.trend_summary())

# %%
display(result.trend_figure())

# %%
display(result.trend_table())

# %% [markdown]
# ## Speeding up or slowing down
#
# The latest year-on-year change is compared with the one before it. A difference is called
# clear only when it is larger than the month-to-month variation of each series would produce,
# after allowing for the number of series tested.

# %%
display(result.growth_table())

# %% [markdown]
# ## Before the pandemic
#
# The assessment year against the same months of the last year before the first national
# lockdown (March 2020).

# %%
display(result.pandemic_summary())

# %%
display(result.pandemic_table())

# %% [markdown]
# ## Compared with the county

# %%
display(result.comparison_table())

# %%
display(result.rank_summary())

# %%
display(result.rank_table())

# %% [markdown]
# ## Seasonality
#
# A series is seasonal when some months are consistently higher than others, beyond its trend
# and its usual variation. Months with unusual data (the lockdowns, when the parameters leave
# them out of baselines) are left out. A peak month is one at least 10% above the average
# month.

# %%
display(result.seasonality_summary())

# %%
display(result.seasonality_figure())

# %%
display(result.seasonality_table())
