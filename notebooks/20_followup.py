# %% [markdown]
# # Follow-up speed and follow-up tests
#
# Does calling a customer back quickly after a quote make them more likely to buy, how quickly
# is quick enough, and which follow-up approach pays for itself?

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
window = "30d"  # how long after the quote a purchase still counts

# %%
from cjlib import report

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## The speed of the first follow-up
#
# Quotes are grouped by how long the customer waited for the first follow-up. For each group:
# the share who bought, with a range showing how sure we can be. The comparison is made within
# lead sources and customer types, so that a source which is both called quickly and keen to buy
# does not flatter the effect.

# %%
report.show(j.latency_effect(window=window), rows=12)

# %% [markdown]
# ## Follow-up tests
#
# Where customers were split at random between follow-up approaches, the difference in buying is
# the effect of the approach itself. It is set against the cost of the contacts to show the
# margin each approach earns, and the cost of each extra sale.

# %%
report.show(j.followup_test(window=window))
