from django.utils.translation import gettext_lazy as _

from config.errors import Conflict, InvalidInput, NotFound, PresidioError


class ContractNotFound(NotFound):
    code = "contract_not_found"
    default_message = _("Contract not found.")


class ContractNotInForce(Conflict):
    code = "contract_not_in_force"
    default_message = _("The contract is not in force on that date.")


class InvalidContractData(InvalidInput):
    code = "invalid_contract_data"
    default_message = _("Some data is not valid: check the highlighted fields.")


class ImportRejected(InvalidInput):
    code = "import_rejected"
    default_message = _("The file has rows with errors: nothing was imported.")


class ImportFileTooLarge(PresidioError):
    code = "file_too_large"
    status = 413
    default_message = _("The file is too large.")
