# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
params_file = "../params/2023-24.yaml"

# %%
from IPython.display import Markdown, display

from smp_analysis import tables
from smp_analysis.assessment import Assessment
from smp_analysis.summary import key_findings

sa = Assessment.open(params_file)
if sa.synthetic:
    display(tables.synthetic_banner())

# %% [markdown]
# # Key findings
#
# The headline of each chapter. Figures are for the partnership's district unless stated;
# each finding is explained, with its caveats, in the chapter it comes from.

# %%
display(Markdown(key_findings(sa)))
