from django.dispatch import Signal

# Sent inside the transaction that saves a shift count that differs from the ledger, with
# `count` (ControlledCount) and `discrepancies` (list of ControlledCountLine). The alerts live in
# mar, above inventory: its receiver raises the discrepancy alert in the same transaction.
controlled_count_discrepancy = Signal()

# Sent when the reorder list is shown, with `facility` and `supplies` (list of selectors.Supply).
# A higher app (pharmacy: refill requests) may set `supply.refill` (what was asked of the
# pharmacy, with `state` and its label) and `supply.can_request_refill` on each, in a constant
# number of queries; the page shows them. Without a receiver the list is the manual one.
reorder_list_shown = Signal()

# Sent when a stock item's page is shown, with `item` and `extra` (a dict the page shows): the
# pharmacy interface puts the latest refill request there (`extra["refill"]`).
stock_item_shown = Signal()
