"""The REST API under /api/v1/ (issue 14): the desk's services, for a CRM or other system.

Nothing here decides a rule: authentication finds the integration's staff user, and every
read and write goes through the same selectors, forms and services as the pages.
"""
