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
from smp_analysis.topics import places

sa = Assessment.open(params_file)
display(sa.notice())
result = places.compute(sa)

# %% [markdown]
# # Places: hotspots, maps and near repeats
#
# Where crime happens decides where to act. This chapter shows which wards and LSOAs
# (neighbourhoods of about 1,500 residents) have the most crime, each area's share of the
# district's total, its rate per resident, and whether its change on the previous period is
# larger than that area's usual variation, after allowing for the number of areas tested. It
# then shows how concentrated crime is, which places stay at the top year after year, and
# whether crimes close in space also come close together in time (near repeats).

# %%
display(result.ward_summary())

# %%
display(result.ward_map_figure())

# %%
display(result.ward_table())

# %%
display(result.ward_types_table())

# %% [markdown]
# ## Neighbourhoods (LSOAs)

# %%
display(result.lsoa_summary())

# %%
display(result.lsoa_map_figure())

# %%
display(result.map_notes_block())

# %%
display(result.lsoa_table())

# %% [markdown]
# ## How concentrated crime is
#
# The Lorenz curve sorts LSOAs from least to most crime and shows the share of crime held by
# each share of LSOAs. The Gini coefficient summarises it: 0 when every LSOA has the same
# number, towards 1 when one LSOA has it all. Where there are fewer offences than LSOAs the
# coefficient is corrected so that it is not inflated by LSOAs that could not have had one.

# %%
display(result.lorenz_figure())

# %%
display(result.concentration_table())

# %% [markdown]
# ## Persistent hotspots

# %%
display(result.persistence_summary())

# %%
display(result.persistence_table())

# %% [markdown]
# ## Near repeats
#
# The Knox test counts pairs of offences by how far apart they are and how many months apart,
# and compares each count with the counts obtained when the months are shuffled among the
# offences at random (the method of the Near Repeat Calculator).

# %%
display(result.near_repeat_summary())

# %%
display(result.near_repeat_table())
