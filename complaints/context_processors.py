"""Template context: the company's published contact details (COP-02, COP-20)."""

from django.conf import settings


def company(request):
    """Add the company's and the ADR scheme's contact details to every template."""
    return {"company": settings.REDRESS_COMPANY, "adr_scheme": settings.REDRESS_ADR_SCHEME}
