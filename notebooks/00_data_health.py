# %% [markdown]
# # Data health
#
# Before any finding, we check the data itself: which files arrived, how many of their rows
# we could use, why some rows were set aside, which period each system covers, and how well we
# could recognise the same customer across systems. Every number that follows rests on this.

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript

# %%
from cjlib import report
from cjlib.analyses import health

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## At a glance

# %%
report.show(health.overview(j), table=False)

# %% [markdown]
# ## Files received
#
# Every row of every file is accounted for: rows read = rows used + rows set aside + exact
# duplicates (a row repeated word for word is kept once).

# %%
report.show(health.files(j), columns=["source_file", "rows_read", "accepted", "rejected",
                                      "duplicates", "first_ts", "last_ts"])

# %% [markdown]
# ## Rows set aside, and why
#
# A row is set aside, never silently changed, when a value cannot be read (a date like
# 31 February, an amount written in words), when it has no way to identify the customer, or when
# it carries a date in the future. Each kind of problem is listed with the file and row numbers
# so it can be fixed at the source. Contact details in the examples are masked.

# %%
report.show(health.rejects(j), rows=15, columns=["feed", "problem", "column", "rows",
                                                  "example_rows", "example_raw"])

# %% [markdown]
# ## The period each system covers
#
# Each row is one system, each column one month: a pale cell inside a system's span is a month
# with no data, which usually means a missing export rather than a quiet month.

# %%
report.show(health.coverage(j), table="feeds", rows=30)

# %% [markdown]
# ## Recognising the same customer across systems
#
# Emails, phone numbers, customer numbers, policy numbers and web cookies are matched
# (pseudonymised: no contact detail is kept) to tie each system's records to one customer. The
# better connected a system, the more of a customer's journey we can see.

# %%
report.show(health.stitching(j))

# %% [markdown]
# ## Campaigns and lead sources in the data
#
# A check that every campaign and lead source the business runs is present, and over which
# dates.

# %%
report.show(health.values(j, "campaign"))
report.show(health.values(j, "source"), chart=False)
