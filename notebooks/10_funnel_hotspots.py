# %% [markdown]
# # Funnel and drop-out hot-spots
#
# How many people who start a quote go on to buy, where the others stop, and what each place
# where people stop costs the business.

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
sales_steps = ["quote_start", "quote", "purchase"]  # the buying journey, in order
journey_steps = ["page_view", "quote_start", "quote", "purchase"]  # from first visit to sale
window = "30d"  # how long after the first step a customer has to complete the journey
breakdown = "customer.source"  # compare the funnel across this (the lead source)

# %%
from cjlib import report

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## From quote to purchase
#
# Each bar is a step of the journey; its height is the number of customers who reached it within
# the time allowed. Customers whose time has not run out yet are counted as "in progress", not as
# lost.

# %%
report.show(j.funnel(sales_steps, window=window))

# %% [markdown]
# ## The same journey by lead source
#
# Where customers came from changes how likely they are to buy: the comparison shows which
# sources bring buyers and which bring browsers.

# %%
report.show(j.funnel(sales_steps, window=window, by=breakdown), rows=20)

# %% [markdown]
# ## Where customers drop out, and what it costs
#
# For each step from the first visit to the sale: the customers lost there, and the margin they
# would have brought had they continued like those who did (at the average sale value), with a
# range. The most expensive steps come first.

# %%
report.show(j.hotspots(journey_steps, window=window))

# %% [markdown]
# ## How long buying takes
#
# The time from the first step to each later step, for the customers who got there: the typical
# time (median), the quickest quarter and the slowest.

# %%
report.show(j.time_to_convert(sales_steps, window=window), table=False)
