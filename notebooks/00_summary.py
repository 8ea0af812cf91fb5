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
from smp_analysis.topics import key_findings

sa = Assessment.open(params_file)
display(sa.notice())

# %% [markdown]
# # Key findings
#
# The headline of each chapter. Figures are for the partnership's district unless stated;
# each finding is explained, with its caveats, in the chapter it comes from.

# %%
display(key_findings.compute(sa).bullets())
