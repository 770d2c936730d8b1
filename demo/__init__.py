"""The demo facility: `seed_demo` builds it through the same services the pages use.

- people.py: the two homes, the staff roster and residents' names (data only);
- catalog.py: the medications and regimens the orders are drawn from (data only);
- build.py: the homes, staff, residents, orders and today's supplies, as they stand today;
- history.py: weeks of med passes behind the live day, so every report has something to show;
- management/commands/seed_demo.py: the command that runs those steps in order.

Demo code only: it may use every app, and nothing in the product imports it.
"""
