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

from smp_analysis import narrative, plots, tables
from smp_analysis.assessment import Assessment

sa = Assessment.open(params_file)
if sa.synthetic:
    display(tables.synthetic_banner())

# %% [markdown]
# # 4. Actual compared with anticipated volumes
#
# Each month's recorded crime is compared with the volume anticipated from the same time of
# year in the previous five years (the Farrington method used in public-health surveillance,
# which allows for seasonality, a trend where there is a clear one, and past unusual months).
# A month is marked when its count is above the upper bound: higher than chance variation
# around the anticipated volume would explain.

# %%
expected = sa.expected()
display(Markdown(narrative.expected_method_note(expected, sa.params.options)))
display(Markdown(narrative.expected_sentence(expected.annual, expected.monthly)))

# %%
display(tables.expected_annual_table(
    expected.annual, f"Table 4.1: {sa.focus_name}, actual and anticipated volumes, "
                     f"{sa.current.name}"))

# %%
history = sa.expected_history(years=3)
display(plots.expected_grid(
    history, period=sa.current,
    title=f"{sa.focus_name}: actual and anticipated monthly volumes",
    caption="Figure 4.1: Monthly actual volumes (black) against anticipated volumes (dashed), "
            "with the band up to the upper bound shaded and months above it in red; the grey "
            "line marks the start of the assessment period.",
    alt=narrative.expected_alt_text(history, sa.focus_name), synthetic=sa.synthetic))

# %% [markdown]
# ## 4.1 Months above the upper bound

# %%
display(tables.exceedance_table(
    expected.monthly, f"Table 4.2: Months in {sa.current.name} above the upper bound"))

# %% [markdown]
# ## 4.2 Comparing methods
#
# The simpler seasonal-mean method (average of the same month in previous years, scaled to last
# year's level) is shown beside the main method so that analysts can see how much the choice
# matters.

# %%
display(tables.method_comparison_table(
    expected, sa.expected(method=narrative.other_expected_method(expected.method)),
    "Table 4.3: Anticipated volumes for the year under both methods"))
