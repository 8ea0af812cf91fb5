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
from IPython.display import Markdown, display

from smp_analysis import narrative, plots, tables
from smp_analysis.assessment import Assessment

sa = Assessment.open(params_file)
if sa.synthetic:
    display(tables.synthetic_banner())

# %% [markdown]
# # 1. Overview of recorded crime and anti-social behaviour
#
# This chapter compares the assessment period with the twelve months before it, for all
# police recorded crime, the two Home Office groups (victim-based crime and other crimes
# against society) and anti-social behaviour. The test asks whether a change is larger than
# the year-to-year variation that chance alone would produce.

# %%
groups = sa.change_by_group()
display(Markdown(narrative.period_sentence(sa.focus_name, sa.current, sa.previous)))
display(Markdown(narrative.change_bullets(groups)))

# %%
display(tables.change_table(
    groups, f"Table 1.1: {sa.focus_name}, {sa.previous.name} compared with {sa.current.name}",
    label="Category"))

# %%
display(plots.monthly_lines(
    sa.monthly_by_group(years=5), series="group", value="count",
    title=f"{sa.focus_name}: recorded crime and ASB per month", period=sa.current,
    caption=f"Figure 1.1: Monthly offences and ASB incidents in {sa.focus_name} over five "
            f"years; the shaded band is the assessment period ({sa.current.name}).",
    alt=narrative.trend_alt_text(sa.monthly_by_group(years=5), sa.focus_name),
    synthetic=sa.synthetic))

# %% [markdown]
# ## 1.1 Change by crime type

# %%
by_type = sa.change_by_type()
display(Markdown(narrative.largest_changes_sentence(by_type)))
display(tables.change_table(
    by_type, f"Table 1.2: {sa.focus_name}, change by crime type", label="Crime type"))

# %%
display(plots.change_bars(
    by_type, title=f"{sa.focus_name}: % change by crime type",
    caption=f"Figure 1.2: Percentage change from {sa.previous.name} to {sa.current.name} "
            "by crime type; rises in orange, falls in blue.",
    alt=narrative.change_alt_text(by_type, sa.focus_name),
    synthetic=sa.synthetic))
