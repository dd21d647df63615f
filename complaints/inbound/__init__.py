"""Inbound email: reading messages (parsing) and fetching them (imap). No business rules here.

What a message does to a complaint is decided by complaints.services.inbound (COP-05).
"""
