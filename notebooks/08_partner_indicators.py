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
from smp_analysis.topics import indicators

sa = Assessment.open(params_file)
display(sa.notice())
result = indicators.compute(sa)

# %% [markdown]
# # Partner indicators and targets
#
# Police recorded crime is only part of the picture. This chapter brings in the partners'
# data: hospital admissions, road casualties, reoffending, youth justice, services for victims
# of domestic abuse, the council's own service counts and the resident survey. Each indicator
# is shown at its latest period up to the end of the assessment period, so periods differ
# between indicators and are always stated.

# %%
display(result.summary())

# %% [markdown]
# ## Latest values and change
#
# Rates carry 95% confidence intervals (exact Poisson below 10 events, Byar's method above;
# Wilson intervals for percentages). A change is compared with the previous period of the same
# length; where an indicator has eight or more earlier periods, the test allows for the usual
# year-to-year variation of the series (over-dispersion), otherwise for chance alone. Survey
# changes are tested against sampling variation. Small counts are not published.

# %%
display(result.sentences())

# %%
display(result.values_table())

# %% [markdown]
# ## Fair comparison with other districts
#
# Each district is compared with the pooled value of the comparison districts and groups. A
# rank alone overstates differences, so the rank comes with its 95% interval (the ranks the
# focus area could hold once chance variation in every district is allowed for), and each
# indicator has a funnel plot: districts inside the limits differ from the average by no more
# than chance (and, where the districts vary more than that, their usual variation) would
# produce; outside the 99.8% limits the difference needs explaining.

# %%
display(result.comparison_table())

# %%
display(result.funnel_figures())

# %% [markdown]
# ## Action-plan targets
#
# Each target has a baseline period and a date. Before the date, a target is on track when
# the latest value is on the right side of a straight line from the baseline to the target
# (or its 95% interval reaches the line), and exceeding expectations when it already meets the
# target; from the date it is achieved or not achieved. Standing targets (stay under or over
# an average, keep a difference near zero) are on or off track until the date.

# %%
display(result.targets_summary())

# %%
display(result.targets_sentences())

# %%
display(result.targets_table())
