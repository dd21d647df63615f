"""The customer portal: public pages, filing and following complaints (COP-01, COP-05, COP-20)."""
