from django.utils.translation import gettext_lazy as _

from config import errors
from config.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class CaseNotFound(NotFound):
    code = "case_not_found"
    default_message = _("Case not found.")


class CallerNotFoundBySearch(PermissionDenied):
    code = "caller_not_looked_up"
    default_message = _(
        "Look the caller up first (POST /api/v1/lookup/): a new case may name only an end "
        "user that your own search found in the last 30 minutes."
    )


class NotWorkingThisCase(PermissionDenied):
    """Writes are need-to-know (care.working): refused unless a reason is given."""

    code = "not_working_this_case"
    default_message = _(
        "You do not work this case: it is not assigned to you, you did not open it and it is not "
        "in a queue you supervise. Give the reason (override_reason) to act on it anyway."
    )


class InvalidCaseData(InvalidInput):
    code = "invalid_case_data"
    default_message = _("Some data is not valid: check the highlighted fields.")


class ClosingCodeRequired(InvalidInput):
    code = "closing_code_required"
    default_message = _("Choose the closing code: it says how the case was resolved.")


class UnknownClosingCode(InvalidInput):
    code = "unknown_closing_code"
    default_message = _("This closing code is not in the list of the case's contract.")


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    default_message = _("This change of status is not allowed.")


class CaseChangedMeanwhile(Conflict):
    code = "case_changed_meanwhile"
    default_message = _("Someone else changed this case in the meantime: reload it and try again.")


class DuplicateSuspected(errors.DuplicateSuspected):
    """The caller already has a similar case: add a note to it, reopen it, or give a reason."""

    default_message = _(
        "This caller already has a similar case. Add a note to it, reopen "
        "it, or give the reason for a new case."
    )
    similar_key = "similar_cases"

    def describe(self, candidate) -> dict:
        return {
            "reference": candidate.reference,
            "status": candidate.status,
            "subject": candidate.subject,
        }


class TriageDone(Conflict):
    code = "triage_done"
    default_message = _("Someone already took care of this message.")


# --- Major incidents (care.incidents) ---------------------------------------------------------


class IncidentNotFound(NotFound):
    code = "incident_not_found"
    default_message = _("Incident not found.")


class InvalidIncidentData(InvalidInput):
    code = "invalid_incident_data"
    default_message = _("Some data of the incident is not valid: check the highlighted fields.")


class IncidentAlreadyResolved(Conflict):
    code = "incident_already_resolved"
    default_message = _("This incident is already resolved: nothing was changed.")


class IncidentCasesRefused(Conflict):
    """Linking refused as a whole: some cases are closed, unknown or in another incident."""

    code = "incident_cases_refused"
    default_message = _("Some cases cannot be linked: nothing was linked.")


# --- Knowledge base (care.articles) ----------------------------------------------------------


class ArticleNotFound(NotFound):
    code = "article_not_found"
    default_message = _("Article not found.")


class InvalidArticleData(InvalidInput):
    code = "invalid_article_data"
    default_message = _("Some data of the article is not valid: check the highlighted fields.")


class OwnArticleReview(errors.PermissionDenied):
    code = "own_article_review"
    default_message = _(
        "You wrote this version: a second person must review and publish it (four eyes)."
    )


class ArticleReviewRefused(errors.PermissionDenied):
    code = "article_review_refused"
    default_message = _("Only supervisors, managers and administrators review articles.")


class ArticleAlreadyReviewed(Conflict):
    code = "article_already_reviewed"
    default_message = _(
        "Someone else reviewed or changed this article in the meantime: nothing was changed. "
        "Reload it to see its current version."
    )


class NothingToReview(Conflict):
    code = "article_nothing_to_review"
    default_message = _("This article has no version waiting for review.")


# --- Saved replies (care.replies) -------------------------------------------------------------


class SavedReplyNotFound(NotFound):
    code = "saved_reply_not_found"
    default_message = _("Saved reply not found.")


class InvalidSavedReply(InvalidInput):
    code = "invalid_saved_reply"
    default_message = _("Some data of the saved reply is not valid: check the highlighted fields.")


class SavedReplyNotAllowed(PermissionDenied):
    code = "saved_reply_not_allowed"
    default_message = _(
        "Team and contract replies are written by the supervisors of the queue or of the "
        "contract; everyone can write personal replies."
    )
