# %% [markdown]
# # Channel journeys and switching
#
# Customers move between the website, the phone and email before they buy. Which routes do they
# take, and does switching channel help or hurt?

# %% tags=["parameters"]
client = "acme-motor"  # workspace name or folder
start = None  # first day of the period (customers first seen on or after it), e.g. "2025-01-01"
end = None  # day after the period
static_charts = False  # True in batch runs: charts as inline images, no JavaScript
quote = "quote"  # the moment a switch of channel is measured from
switch_event = "inbound_call"  # the customer's own move to another channel (not our follow-up)
drop_step = "id_check_started"  # a step customers often abandon ...
drop_unless = "id_check_completed"  # ... when this does not follow

# %%
from cjlib import report

j = report.open_client(client, start, end, static_charts=static_charts)

# %% [markdown]
# ## The most common routes
#
# The sequences of channels customers used, the most frequent first, with the share of each that
# ended in a purchase.

# %%
report.show(j.paths(), rows=15)

# %% [markdown]
# ## Does switching channel help?
#
# Customers who got a quote online and then phoned us themselves within a few days, against those
# who did not: the share of each who bought, and how the two compare.

# %%
report.show(j.paths(anchor=quote, switch_event=switch_event))

# %% [markdown]
# ## After customers give up
#
# What customers did next after abandoning a step, and how many of them still bought.

# %%
report.show(j.paths(after=drop_step, unless=drop_unless), rows=12)

# %% [markdown]
# ## From one channel to the next
#
# For each channel, where customers went next: read a row to see what follows that channel.

# %%
report.show(j.transitions(level="channel"), rows=20)
