# %% [markdown]
# # Retention, lifecycle and lifetime value
#
# Do customers come back, how many are active, returning or drifting away each month, and what
# is a customer worth over their lifetime, now and in the year ahead?

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
period = "month"  # the calendar period for cohorts and lifecycle

# %%
from cjlib import report

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## Do customers come back?
#
# Customers are grouped by the month they first appeared (a cohort). Each row follows one cohort:
# the share still active one, two, three months later. Months that have not finished yet are
# marked as incomplete rather than shown as a fall.

# %%
report.show(j.retention(period=period), table=False)

# %% [markdown]
# ## New, returning, coming back, drifting away
#
# Each month's active customers split into new ones, returning ones and ones coming back after a
# gap, against those who went quiet.

# %%
report.show(j.lifecycle(period=period), table="wide", rows=30)

# %% [markdown]
# ## Customer lifetime value
#
# What customers have spent so far, and what they are expected to spend over the next year, by
# customer type. The forecast uses the standard buy-till-you-die models, which weigh how often
# and how recently each customer bought, and how likely they are still to be a customer.

# %%
report.show(j.clv())
