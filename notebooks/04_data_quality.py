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
from smp_analysis.topics import data_quality

sa = Assessment.open(params_file)
display(sa.notice())
result = data_quality.compute(sa)

# %% [markdown]
# # Data quality
#
# Police data published on data.police.uk can be incomplete, late or duplicated. Every input
# file was checked before any figure in this appendix was calculated: rows that break the
# published format are set aside (quarantined) rather than silently dropped, and each force's
# monthly series is checked for missing months and for volumes far from the neighbouring
# months or the same months of earlier years. Months found missing or incomplete are left out
# of every comparison and baseline in this appendix, which says so where it matters.

# %%
display(result.summary())

# %%
display(result.figure())

# %% [markdown]
# ## Findings

# %%
display(result.findings_table())

# %% [markdown]
# ## Quarantined rows

# %%
display(result.quarantine_table())
