"""Photos sent as files: an image sent as a file (PNG/JPG…) is re-sent by the bot as a photo in the
same private chat, so that the stored file_id is a photo's (Telegram refuses a document's file_id
for sendPhoto). A photo message is taken as it is."""

from __future__ import annotations

from telegram import Document
from telegram.error import BadRequest

from bot.domain.errors import DomainError
from handlers.context import Ui
from handlers.file_import import shorten

PHOTO_MAX_BYTES = 10 * 1024 * 1024
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _looks_like_an_image(content: bytes) -> bool:
    return content.startswith(_IMAGE_SIGNATURES) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")


async def photo_from_document(ui: Ui, document: Document) -> str:
    """An image sent as a file, re-sent by the bot as a photo: that photo's file_id."""
    name = shorten(document.file_name or "")
    if not (document.mime_type or "").startswith("image/"):
        raise DomainError("wishes.ui_photo_not_image", name=name)
    limit_mb = PHOTO_MAX_BYTES // (1024 * 1024)
    if document.file_size is not None and document.file_size > PHOTO_MAX_BYTES:
        raise DomainError("wishes.ui_photo_too_large", limit_mb=limit_mb)
    telegram_file = await ui.context.bot.get_file(document.file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    if len(content) > PHOTO_MAX_BYTES:
        raise DomainError("wishes.ui_photo_too_large", limit_mb=limit_mb)
    if not _looks_like_an_image(content):
        raise DomainError("wishes.ui_photo_not_image", name=name)
    try:
        sent = await ui.context.bot.send_photo(ui.chat_id, content, caption=ui.t("wishes.ui_photo_received"))
    except BadRequest:  # Telegram could not read it as a picture after all
        raise DomainError("wishes.ui_photo_not_image", name=name) from None
    return sent.photo[-1].file_id
