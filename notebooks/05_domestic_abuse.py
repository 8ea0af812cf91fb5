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
threshold = sa.params.options.suppression_threshold
if sa.synthetic:
    display(tables.synthetic_banner())

# %% [markdown]
# # 5. Domestic abuse and repeat victimisation
#
# Domestic abuse is under-reported and often repeated. This chapter uses the victim-level
# incident extract (victims are identified only by pseudonyms) to measure how many incidents
# are repeats, how many victims are repeat victims, and the Marac repeat rate. Small numbers
# are not published: small counts are shown as "<" and the threshold, and related cells are
# hidden where a total would reveal them (each table's caption gives the rule).

# %%
da = sa.domestic_abuse()
display(Markdown(narrative.domestic_abuse_summary(da, sa.focus_name, sa.current, sa.previous,
                                                  threshold) if da else
                 "No victim-level incident extract was supplied for this assessment."))

# %%
display(tables.repeat_summary_table(
    da, f"Table 5.1: Domestic abuse in {sa.focus_name}", threshold=threshold,
    previous_name=sa.previous.name, current_name=sa.current.name) if da else "")

# %% [markdown]
# ## 5.1 Marac

# %%
display(Markdown(narrative.marac_sentence(da.marac_current, da.marac_previous, sa.current,
                                          sa.previous, threshold) if da else ""))

# %% [markdown]
# ## 5.2 Repeat victimisation by ward

# %%
wards = tables.ward_repeat_display(da.current.by_area, threshold=threshold,
                                   total_label=f"{sa.focus_name} total") if da else None
display(plots.ward_rate_bars(
    wards, title=f"Repeat domestic-abuse incidents by ward, {sa.current.name}",
    caption="Figure 5.1: Repeat incidents as a percentage of domestic-abuse incidents in each "
            "ward; wards with too few incidents to publish are not shown.",
    alt=narrative.ward_rates_alt_text(wards), synthetic=sa.synthetic) if da else "")

# %%
display(tables.ward_repeat_table(
    wards, f"Table 5.2: Domestic abuse by ward, {sa.current.name}",
    threshold=threshold) if da else "")

# %%
display(tables.high_harm_table(
    da.high_harm_by_ward, f"Table 5.3: High-harm domestic-abuse incidents by ward, "
                          f"{sa.current.name}",
    threshold=threshold, total_label=f"{sa.focus_name} total") if da else "")
