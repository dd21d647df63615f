"""Pure-Python rules of the Code: working-day calendar, deadline clocks and status graph.

No Django here; import the modules directly (`complaints.domain.deadlines`, `.calendar`,
`.lifecycle`), so importing the status graph does not load the holiday tables.
"""
