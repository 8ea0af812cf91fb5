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
# # 3. Data quality
#
# Police data published on data.police.uk can be incomplete, late or duplicated. Every input
# file was checked before any figure in this appendix was calculated: rows that break the
# published format are set aside (quarantined) rather than silently dropped, and each force's
# monthly series is checked for missing months and for volumes far from the neighbouring
# months.

# %%
dq = sa.data_quality()
display(Markdown(narrative.reconciliation_sentence(dq.files)))
display(Markdown(narrative.anomalies_sentence(dq.anomalies, sa.current, sa.previous)))
display(Markdown(narrative.unplaced_sentence(dq.unplaced, dq.period_rows, sa.current.name)))

# %%
display(plots.monthly_with_flags(
    dq.force_monthly, dq.anomalies[dq.anomalies["kind"].str.startswith("implausibly")],
    value="crimes", title="Recorded crime per month (excluding ASB), whole force",
    caption="Figure 3.1: Monthly recorded crime for each force in the data store; red rings "
            "mark months whose volume is implausibly low or high against neighbouring months.",
    alt=narrative.flags_alt_text(dq.force_monthly, dq.anomalies),
    synthetic=sa.synthetic))

# %% [markdown]
# ## 3.1 Findings

# %%
display(tables.anomalies_table(dq.anomalies, "Table 3.1: Data-quality findings"))

# %% [markdown]
# ## 3.2 Quarantined rows

# %%
display(tables.quarantine_table(dq.quarantine, "Table 3.2: Rows set aside, by file and reason"))
