from django.dispatch import Signal

# Sent inside the transaction that saves a shift count that differs from the ledger, with
# `count` (ControlledCount) and `discrepancies` (list of ControlledCountLine). The alerts live in
# mar, above inventory: its receiver raises the discrepancy alert in the same transaction.
controlled_count_discrepancy = Signal()
