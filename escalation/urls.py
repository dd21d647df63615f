from django.urls import path

from escalation import views

app_name = "escalation"

urlpatterns = [
    path("", views.formal_list, name="formal-list"),
    path("<str:register_reference>/", views.formal_detail, name="formal-detail"),
    path("<str:register_reference>/appoint/", views.formal_appoint, name="formal-appoint"),
    path("<str:register_reference>/note/", views.formal_note, name="formal-note"),
    path(
        "<str:register_reference>/final-proposition/",
        views.formal_final_proposition,
        name="formal-final-proposition",
    ),
    path("<str:register_reference>/deadlock/", views.formal_deadlock, name="formal-deadlock"),
    path(
        "<str:register_reference>/adr/referral/",
        views.formal_adr_referral,
        name="formal-adr-referral",
    ),
    path(
        "<str:register_reference>/adr/decision/",
        views.formal_adr_decision,
        name="formal-adr-decision",
    ),
    path(
        "<str:register_reference>/adr/remedy-done/",
        views.formal_adr_remedy_done,
        name="formal-adr-remedy-done",
    ),
    path(
        "<str:register_reference>/case-file/request/",
        views.formal_case_file_request,
        name="formal-case-file-request",
    ),
    path(
        "<str:register_reference>/case-file/",
        views.formal_case_file,
        name="formal-case-file",
    ),
]
