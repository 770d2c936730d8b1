"""Stock per resident and medication: the append-only movement ledger that follows every dose,
receipts, supply and reorder, witnessed waste, and the two-signature controlled-drug counts.
`selectors.stock_item_for` is the one rule for which supply a dose consumes."""
