# %% [markdown]
# # Executive summary
#
# The findings that matter most, ranked by the money at stake. Each one passed a statistical bar
# (corrected for the number of things we looked at), so none of them is a fluke of the data; the
# chapters of this report hold the evidence behind each.

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
top = 10  # how many findings to list

# %%
from cjlib import report
from cjlib.analyses import health

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## The data behind this report

# %%
report.show(health.overview(j), table=False)

# %% [markdown]
# ## The findings, ranked by money at stake

# %%
report.show_nuggets(j.nuggets(), top=top)
