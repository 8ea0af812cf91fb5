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
from smp_analysis.topics import priorities

sa = Assessment.open(params_file)
display(sa.notice())
result = priorities.compute(sa)

# %% [markdown]
# # Priorities
#
# The partnership chooses its priorities by comparing candidate issues (the crime groups and
# types, anti-social behaviour, domestic abuse and the partner indicators) on the same
# factors: volume (the rate against the county average), trend (whether it is rising or
# falling by more than its usual variation), harm (weighted by severity), residents'
# perception (from a survey, where one asks) and how far the partnership can influence it
# (the partnership's own judgement). Each factor is scored from 1 to 5 with the rules in
# docs/methods.md; the score is their weighted mean. Because reasonable people weigh the
# factors differently, the ranking is recomputed for many weightings around the stated one:
# a recommendation that survives most of them is robust.

# %%
display(result.summary())

# %% [markdown]
# ## Recommended priorities
#
# Each recommended priority is in the top group in most weightings; its reason is built from
# its factor scores.

# %%
display(result.recommendations())

# %% [markdown]
# ## The scoring matrix

# %%
display(result.matrix_table())

# %%
display(result.stability_figure())

# %%
display(result.unscored())

# %%
display(result.influence_note())

# %% [markdown]
# ## The current plan's priorities
#
# How the priorities of the current plan compare with the recommendation, and the status of
# each from the partner-indicator targets that measure it: exceeding expectations when every
# linked target is exceeding expectations or achieved, on track when none is off track or not
# achieved, needs attention otherwise, and no measure when no linked target can be assessed.

# %%
display(result.comparison_sentences())

# %%
display(result.status_table())

# %% [markdown]
# ## Harm
#
# Counting offences treats a theft and a rape alike. Weighting each offence by its severity
# (the Office for National Statistics' Crime Severity Score weights days of custody per
# offence) gives harm; harm per 1,000 residents is a severity score that compares districts
# of different sizes.

# %%
display(result.harm_notice())

# %%
display(result.harm_summary())

# %%
display(result.harm_table())

# %%
display(result.drivers_table())
