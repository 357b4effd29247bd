# %% [markdown]
# # Lead sources, campaigns, attribution and personas
#
# Which lead sources and campaigns bring customers who buy, which channels deserve the credit for
# a sale, and which kinds of customer behave alike.

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
sales_steps = ["quote", "purchase"]  # the conversion each lead source is judged on
window = "30d"  # how long after the quote a purchase still counts

# %%
from cjlib import report
from cjlib.analyses import health

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## Lead sources
#
# The share of quotes that became a purchase, for each source the customer came from.

# %%
report.show(j.funnel(sales_steps, window=window, by="customer.source"), rows=20)

# %% [markdown]
# ## Campaigns
#
# The campaigns in the data, their reach and the period they ran.

# %%
report.show(health.values(j, "campaign"))

# %% [markdown]
# ## Which channels earn the credit for a sale
#
# A sale usually follows several contacts. Simple rules give all the credit to the first or the
# last contact, or share it out; the Markov model asks how many sales would be lost if a channel
# were removed from every journey.

# %%
report.show(j.attribution(by="channel"))

# %% [markdown]
# ## The same question for lead sources

# %%
report.show(j.attribution(by="source"))

# %% [markdown]
# ## Personas
#
# Customers grouped by how recently, how often and how much they buy, and by how they like to be
# in touch.

# %%
report.show(j.segments(), rows=15)
