"""The forms of the people pages: shape only (routing.staff and config.users check the
rules and answer with field errors)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config import roles
from config.inputs import InputForm
from contracts.models import Client, Contract, Service
from routing import people_selectors
from routing.staff import LANGUAGES, MAX_CAPACITY

ROLE_CHOICES = list(roles.ROLE_LABELS.items())


class AccountForm(InputForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("The user receives here the link to choose their password."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    @classmethod
    def initial_for(cls, person) -> dict:
        return {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "roles": roles.roles_of(person),
        }


class NewPersonForm(AccountForm):
    username = forms.CharField(label=_("Username"), max_length=150)

    field_order = ["username", "first_name", "last_name", "email", "roles"]


class ProfileForm(InputForm):
    site = forms.ModelChoiceField(label=_("Site"), queryset=None, empty_label=None)
    remote = forms.BooleanField(label=_("Works remotely"), required=False)
    capacity = forms.IntegerField(
        label=_("Capacity (cases at once)"),
        initial=5,
        help_text=_("From 1 to %(max)s.") % {"max": MAX_CAPACITY},
    )
    backoffice_share = forms.DecimalField(
        label=_("Back-office share of capacity"),
        max_digits=5,
        decimal_places=2,
        initial="0.40",
        help_text=_("From 0 to 1: the part of the capacity kept for back-office work."),
    )
    skills = forms.MultipleChoiceField(
        label=_("Service skills"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=list(LANGUAGES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    extension = forms.CharField(label=_("Phone extension"), max_length=20, required=False)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = people_selectors.sites_managed_by(user)  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, profile) -> dict:
        if profile is None:
            return {}
        return {
            "site": profile.site_id,
            "remote": profile.remote,
            "capacity": profile.capacity,
            "backoffice_share": profile.backoffice_share,
            "skills": profile.skills,
            "languages": profile.languages,
            "extension": profile.extension,
        }


class CertificationForm(InputForm):
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.order_by("code"),
        required=False,
        to_field_name="code",
    )
    client = forms.ModelChoiceField(
        label=_("or every contract of the client"),
        queryset=Client.objects.order_by("name"),
        required=False,
    )


class ReasonForm(InputForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class PeopleImportForm(InputForm):
    file = forms.FileField(label=_("File (.csv or .xlsx)"))
