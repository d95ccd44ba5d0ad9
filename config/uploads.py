"""What files the portal accepts (case attachments, order documents, end-user lists): one
policy, one check.

A file is accepted by its extension, within `MAX_ATTACHMENT_BYTES`, and when its first bytes
match the type it claims (a renamed executable is not a PDF). The content type stored is the
policy's, never the browser's.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".eml": "message/rfc822",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAGIC = {
    ".pdf": b"%PDF",
    ".png": b"\x89PNG",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".docx": b"PK",
    ".xlsx": b"PK",
}


class UploadRefused(ValueError):
    """The reason, in the user's language, naming the file."""


def refuse_if_larger(upload: UploadedFile, limit: int) -> None:
    """Raises `UploadRefused` when `upload` is over `limit` bytes: from its size, before a
    byte of it is read (Django has streamed anything over FILE_UPLOAD_MAX_MEMORY_SIZE to a
    temporary file, never to memory)."""
    if (upload.size or 0) > limit:
        raise UploadRefused(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": upload.name or "", "mb": limit // (1024 * 1024)}
        )


def accepted_content_type(upload: UploadedFile) -> str:
    """The content type to store for `upload`; raises `UploadRefused` with the reason."""
    name = upload.name or ""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    limit = settings.MAX_ATTACHMENT_BYTES
    if extension not in ALLOWED_TYPES:
        raise UploadRefused(
            _(
                "%(name)s: this type of file is not accepted (PDF, images, text, "
                "Word, Excel, e-mail)."
            )
            % {"name": name}
        )
    refuse_if_larger(upload, limit)
    head = upload.read(8)
    upload.seek(0)
    if extension in MAGIC and not head.startswith(MAGIC[extension]):
        raise UploadRefused(
            _("%(name)s does not look like a %(ext)s file.") % {"name": name, "ext": extension}
        )
    return ALLOWED_TYPES[extension]
