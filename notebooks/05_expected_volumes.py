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
from smp_analysis.topics import expected

sa = Assessment.open(params_file)
display(sa.notice())
result = expected.compute(sa)

# %% [markdown]
# # Actual compared with anticipated volumes

# %%
display(result.intro())

# %%
display(result.summary())

# %%
display(result.annual_table())

# %%
display(result.figure())

# %% [markdown]
# ## Months above the expected range

# %%
display(result.exceedance_table())

# %% [markdown]
# ## Comparing methods
#
# The simpler seasonal-mean method (average of the same month in previous years, scaled to last
# year's level) is shown beside the main method so that analysts can see how much the choice
# matters.

# %%
display(result.methods_table())
