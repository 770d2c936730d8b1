"""The demo facility: `seed_demo` builds it through the same services the pages use.

catalog.py holds the medications and regimens it draws from; the history builder records
weeks of med passes behind the live day so every report has something to show. Demo code
only: nothing in the product imports this app.
"""
