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
from smp_analysis.topics import domestic_abuse

sa = Assessment.open(params_file)
display(sa.notice())
result = domestic_abuse.compute(sa)

# %% [markdown]
# # Domestic abuse and repeat victimisation
#
# Domestic abuse is under-reported and often repeated. This chapter uses the victim-level
# incident extract (victims are identified only by pseudonyms) to measure how many incidents
# are repeats, how many victims are repeat victims, and the Marac repeat rate. Small numbers
# are not published: a small count, and any figure that would let it be worked out from a
# total or a related figure, is shown as [c] (confidential), and a rate, change or test that
# uses such a count is not given. Each table's caption gives the rule.

# %%
display(result.summary())

# %%
display(result.table())

# %% [markdown]
# ## Marac

# %%
display(result.marac_summary())

# %% [markdown]
# ## Repeat victimisation by ward

# %%
display(result.ward_figure())

# %%
display(result.ward_table())

# %%
display(result.high_harm_table())
