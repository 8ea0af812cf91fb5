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
# # 2. Crime rates compared with the county
#
# Rates per 1,000 residents allow districts of different sizes to be compared. The county
# rate is all offences in the county divided by all its residents (not the average of the
# district rates). Rank 1 is the highest rate.

# %%
rank = sa.focus_rank()
rates = sa.district_rates()
display(Markdown(narrative.rank_sentence(sa.focus_name, "recorded crime", rank,
                                         sa.comparison_name)))
display(Markdown(narrative.population_note(sa.population)))

# %%
display(plots.rate_bars(
    rates, focus=sa.focus_code, reference=rank.pooled_rate_per_1000,
    title=f"Recorded crime per 1,000 residents, {sa.current.name}",
    caption=f"Figure 2.1: Recorded crime per 1,000 residents by district of "
            f"{sa.comparison_name}; {sa.focus_name} in orange, the county rate dashed.",
    alt=narrative.rates_alt_text(rates, sa.focus_name, rank.pooled_rate_per_1000),
    synthetic=sa.synthetic))

# %%
display(tables.rates_table(rates, f"Table 2.1: Recorded crime per 1,000 residents, "
                           f"{sa.current.name}", focus=sa.focus_code))

# %% [markdown]
# ## 2.1 Rates by crime type

# %%
by_type = sa.rates_by_type()
display(Markdown(narrative.rank_by_type_sentence(by_type, sa.focus_name)))
display(tables.rates_by_type_table(
    by_type, f"Table 2.2: {sa.focus_name} and {sa.comparison_name} rates per 1,000 residents "
             f"by crime type, {sa.current.name}",
    area_name=sa.focus_name, comparison_name=sa.comparison_name))
