"""Parse-mode handling for the fake Bot API: HTML, MarkdownV2 and legacy Markdown.

Each parser turns the markup a bot sends into the plain text plus ``MessageEntity``
dicts that Telegram stores and returns (offsets/lengths in UTF-16 code units), or raises
``EntityParseError`` carrying the message Telegram puts after
"Bad Request: can't parse entities: ".

The HTML parser mirrors TDLib's ``parse_html`` (error texts, attribute syntax, ``</>``
closing the innermost tag, ``&lt`` without a semicolon, ...). It deviates in one place on
purpose: with ``strict_ampersand`` (the default) an ``&`` that does not start a supported
entity is an error. Real Telegram keeps it literally, but the Bot API docs require escaping
it and an unescaped ``&`` followed by e.g. ``lt;`` silently changes what the user sees, so
for a test double it is the more useful behaviour.

The Markdown parsers are simplified but keep the failure modes bots actually hit: reserved
characters that are not escaped and entities that are never closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "EntityParseError",
    "parse_html",
    "parse_markdown_legacy",
    "parse_markdown_v2",
    "parse_text",
    "strip_text",
    "utf16_len",
]


class EntityParseError(ValueError):
    """Markup rejected; ``str(exc)`` is Telegram's text after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8", "surrogatepass"))


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """Return ``(plain_text, entities)`` for ``text`` sent with ``parse_mode``.

    Raises ``EntityParseError`` for malformed markup and ``ValueError`` for an unknown
    parse mode.
    """
    if parse_mode is None or parse_mode == "":
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    raise ValueError(parse_mode)


# --------------------------------------------------------------------------- HTML

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n"


@dataclass
class _OpenTag:
    name: str
    utf16_offset: int
    text_index: int
    attributes: dict[str, str] = field(default_factory=dict)


class _TextBuilder:
    def __init__(self) -> None:
        self._parts: list[str] = []
        self.utf16 = 0

    def append(self, chunk: str) -> None:
        self._parts.append(chunk)
        self.utf16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self._parts)


def _decode_html_entity(src: str, i: int) -> tuple[str | None, int]:
    """Decode the entity starting at ``src[i] == '&'`` -> (decoded, next index) or (None, i)."""
    n = len(src)
    j = i + 1
    if j < n and src[j] == "#":
        j += 1
        if j < n and src[j] in "xX":
            j += 1
            start = j
            while j < n and src[j] in "0123456789abcdefABCDEF":
                j += 1
            digits, base = src[start:j], 16
        else:
            start = j
            while j < n and src[j].isascii() and src[j].isdigit():
                j += 1
            digits, base = src[start:j], 10
        if not digits or len(digits) > 8:
            return None, i
        code = int(digits, base)
        if code == 0 or code > 0x10FFFF:
            return None, i
        if j < n and src[j] == ";":
            j += 1
        return chr(code), j
    start = j
    while j < n and src[j].isascii() and src[j].isalpha():
        j += 1
    name = src[start:j]
    if name not in _NAMED_ENTITIES:
        return None, i
    if j < n and src[j] == ";":
        j += 1
    return _NAMED_ENTITIES[name], j


def _decode_attribute_value(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            decoded, j = _decode_html_entity(value, i)
            if decoded is not None:
                out.append(decoded)
                i = j
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", url)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in ("http", "https", "tg", "ton", "ftp"):
            return None
    else:
        scheme, rest = "http", url
    if scheme in ("http", "https", "ftp"):
        host = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "." not in host or host.startswith(".") or host.endswith("."):
            return None
        if rest == host:
            rest += "/"
        elif rest[len(host)] in "?#":
            rest = host + "/" + rest[len(host) :]
    return f"{scheme}://{rest}"


def _link_entity(url: str | None, inner_text: str) -> dict | None:
    target = url if url is not None else inner_text
    user = re.match(r"^tg://user\?id=(\d+)$", target.strip())
    if user:
        return {"type": "text_mention", "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
    normalized = _normalize_url(target)
    if normalized is None:
        # TDLib silently drops links it cannot parse; the text stays.
        return None
    return {"type": "text_link", "url": normalized}


def parse_html(src: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict]]:
    out = _TextBuilder()
    stack: list[_OpenTag] = []
    entities: list[dict] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "&":
            decoded, j = _decode_html_entity(src, i)
            if decoded is None:
                if strict_ampersand:
                    raise EntityParseError(
                        f"Unsupported HTML entity or unescaped '&' at byte offset "
                        f"{_byte_offset(src, i)}; write &amp; (strict fake; real Telegram "
                        f"would show the text literally)"
                    )
                out.append("&")
                i += 1
                continue
            if 0xD800 <= ord(decoded) <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            out.append(decoded)
            i = j
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue

        tag_begin = i
        tag_offset = _byte_offset(src, tag_begin)
        i += 1
        if i < n and src[i] == "/":
            i += 1
            name_start = i
            while i < n and src[i] not in _SPACES and src[i] != ">":
                i += 1
            end_name = src[name_start:i].lower()
            while i < n and src[i] in _SPACES:
                i += 1
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {tag_offset}")
            if i >= n or src[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {tag_offset}")
            i += 1
            open_tag = stack.pop()
            if end_name and end_name != open_tag.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {tag_offset}, expected "
                    f'"</{open_tag.name}>", found "</{end_name}>"'
                )
            _close_html_tag(open_tag, out, stack, entities)
            continue

        name_start = i
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {tag_offset}")
        tag_name = src[name_start:i].lower()
        if tag_name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag_name}" at byte offset {tag_offset}')
        attributes: dict[str, str] = {}
        while True:
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(f'Unclosed start tag "{tag_name}" at byte offset {tag_offset}')
            if src[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and src[i] not in _SPACES and src[i] not in "=>":
                i += 1
            attr_name = src[attr_start:i].lower()
            if not attr_name:
                raise EntityParseError(f'Empty attribute name in the tag "{tag_name}" at byte offset {tag_offset}')
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(f'Unclosed start tag "{tag_name}" at byte offset {tag_offset}')
            if src[i] != "=":
                attributes[attr_name] = ""
                continue
            i += 1
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(f'Unclosed start tag "{tag_name}" at byte offset {tag_offset}')
            if src[i] in "\"'":
                quote = src[i]
                close = src.find(quote, i + 1)
                if close < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {tag_offset}")
                attributes[attr_name] = _decode_attribute_value(src[i + 1 : close])
                i = close + 1
            else:
                token_start = i
                while i < n and (src[i].isascii() and src[i].isalnum() or src[i] in ".-"):
                    i += 1
                if i >= n or (src[i] not in _SPACES and src[i] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(src, token_start)}"
                    )
                attributes[attr_name] = src[token_start:i]
        if tag_name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {tag_offset}')
        if tag_name == "tg-emoji" and not re.fullmatch(r"\d+", attributes.get("emoji-id", "")):
            raise EntityParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {tag_offset}')
        stack.append(_OpenTag(tag_name, out.utf16, len(out.text()), attributes))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), _sorted_entities(entities)


def _close_html_tag(tag: _OpenTag, out: _TextBuilder, stack: list[_OpenTag], entities: list[dict]) -> None:
    length = out.utf16 - tag.utf16_offset
    if length <= 0:
        return
    entity: dict | None
    if tag.name in _SIMPLE_TAG_ENTITY:
        entity = {"type": _SIMPLE_TAG_ENTITY[tag.name]}
    elif tag.name == "a":
        entity = _link_entity(tag.attributes.get("href"), out.text()[tag.text_index :])
    elif tag.name == "tg-emoji":
        entity = {"type": "custom_emoji", "custom_emoji_id": tag.attributes["emoji-id"]}
    elif tag.name == "blockquote":
        is_expandable = "expandable" in tag.attributes
        entity = {"type": "expandable_blockquote" if is_expandable else "blockquote"}
    elif tag.name == "pre":
        entity = {"type": "pre"}
        # A <code class="language-x"> spanning the whole <pre> becomes the pre's language.
        for index, inner in enumerate(entities):
            if (
                inner["type"] == "code"
                and inner.get("_language")
                and inner["offset"] == tag.utf16_offset
                and inner["length"] == length
            ):
                entity["language"] = inner["_language"]
                del entities[index]
                break
    elif tag.name == "code":
        entity = {"type": "code"}
        language = tag.attributes.get("class", "")
        inside_pre = bool(stack) and stack[-1].name == "pre"
        if inside_pre and language.startswith("language-") and len(language) > 9:
            # Resolved into the pre's "language" when the enclosing <pre> closes.
            entity["_language"] = language[len("language-") :]
    else:  # pragma: no cover - every supported tag is handled above
        entity = None
    if entity is None:
        return
    entity["offset"] = tag.utf16_offset
    entity["length"] = length
    entities.append(entity)


def _sorted_entities(entities: list[dict]) -> list[dict]:
    cleaned = []
    for entity in entities:
        entity = {key: value for key, value in entity.items() if not key.startswith("_")}
        cleaned.append(entity)
    return sorted(cleaned, key=lambda e: (e["offset"], -e["length"]))


# ---------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    out = _TextBuilder()
    entities: list[dict] = []
    # (entity type, utf16 offset, byte offset of the marker, text index)
    stack: list[tuple[str, int, int, int]] = []
    quote_start: int | None = None
    i, n = 0, len(src)
    while i < n:
        at_line_start = i == 0 or src[i - 1] == "\n"
        if at_line_start:
            if src[i] == ">":
                if quote_start is None:
                    quote_start = out.utf16
                i += 1
                continue
            if quote_start is not None:
                _add_entity(entities, "blockquote", quote_start, out.utf16 - quote_start)
                quote_start = None
        ch = src[i]
        if ch == "\\" and i + 1 < n and 0 < ord(src[i + 1]) < 127:
            out.append(src[i + 1])
            i += 2
            continue
        if ch == "`":
            is_pre = src.startswith("```", i)
            marker = "```" if is_pre else "`"
            marker_offset = _byte_offset(src, i)
            j = i + len(marker)
            language = ""
            if is_pre:
                newline = src.find("\n", j)
                close_guess = src.find("```", j)
                if newline != -1 and (close_guess == -1 or newline < close_guess):
                    language = src[j:newline].strip()
                    j = newline + 1
            body: list[str] = []
            while j < n and not src.startswith(marker, j):
                if src[j] == "\\" and j + 1 < n and src[j + 1] in "`\\":
                    body.append(src[j + 1])
                    j += 2
                    continue
                body.append(src[j])
                j += 1
            if j >= n:
                name = "Pre" if is_pre else "Code"
                raise EntityParseError(f"Can't find end of {name} entity at byte offset {marker_offset}")
            start = out.utf16
            out.append("".join(body))
            entity_type = "pre" if is_pre else "code"
            extra = {"language": language} if language else {}
            _add_entity(entities, entity_type, start, out.utf16 - start, **extra)
            i = j + len(marker)
            continue
        marker_type = None
        marker_len = 1
        if ch == "*":
            marker_type = "bold"
        elif ch == "_":
            if src.startswith("__", i):
                marker_type, marker_len = "underline", 2
            else:
                marker_type = "italic"
        elif ch == "~":
            marker_type = "strikethrough"
        elif ch == "|" and src.startswith("||", i):
            marker_type, marker_len = "spoiler", 2
        if marker_type is not None:
            if stack and stack[-1][0] == marker_type:
                entity_type, start, _, _ = stack.pop()
                _add_entity(entities, entity_type, start, out.utf16 - start)
            else:
                stack.append((marker_type, out.utf16, _byte_offset(src, i), len(out.text())))
            i += marker_len
            continue
        if ch == "[":
            stack.append(("text_link", out.utf16, _byte_offset(src, i), len(out.text())))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "text_link":
            _, start, _, text_index = stack.pop()
            i += 1
            url = None
            if i < n and src[i] == "(":
                url_offset = _byte_offset(src, i)
                j = i + 1
                chars: list[str] = []
                while j < n and src[j] != ")":
                    if src[j] == "\\" and j + 1 < n:
                        chars.append(src[j + 1])
                        j += 2
                        continue
                    chars.append(src[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {url_offset}")
                url = "".join(chars)
                i = j + 1
            link = _link_entity(url, out.text()[text_index:])
            if link is not None and out.utf16 > start:
                link["offset"], link["length"] = start, out.utf16 - start
                entities.append(link)
            continue
        if ch in _MDV2_RESERVED:
            raise EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.append(ch)
        i += 1
    if stack:
        entity_type, _, marker_offset, _ = stack[-1]
        raise EntityParseError(f"Can't find end of {_MDV2_NAMES[entity_type]} entity at byte offset {marker_offset}")
    if quote_start is not None:
        _add_entity(entities, "blockquote", quote_start, out.utf16 - quote_start)
    return out.text(), _sorted_entities(entities)


def _add_entity(entities: list[dict], entity_type: str, offset: int, length: int, **extra: object) -> None:
    if length > 0:
        entities.append({"type": entity_type, "offset": offset, "length": length, **extra})


# ------------------------------------------------------------------ legacy Markdown

_LEGACY_MARKERS = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown_legacy(src: str) -> tuple[str, list[dict]]:
    out = _TextBuilder()
    entities: list[dict] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "*_`[":
            out.append(src[i + 1])
            i += 2
            continue
        if ch in _LEGACY_MARKERS or ch == "[":
            begin = _byte_offset(src, i)
            if src.startswith("```", i):
                close = src.find("```", i + 3)
                if close < 0:
                    raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
                start = out.utf16
                out.append(src[i + 3 : close])
                _add_entity(entities, "pre", start, out.utf16 - start)
                i = close + 3
                continue
            if ch == "[":
                close = src.find("]", i + 1)
                if close < 0 or not src.startswith("(", close + 1) or src.find(")", close) < 0:
                    raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
                url_end = src.find(")", close)
                start = out.utf16
                label = src[i + 1 : close]
                out.append(label)
                link = _link_entity(src[close + 2 : url_end], label)
                if link is not None and out.utf16 > start:
                    link["offset"], link["length"] = start, out.utf16 - start
                    entities.append(link)
                i = url_end + 1
                continue
            close = src.find(ch, i + 1)
            if close < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
            start = out.utf16
            out.append(src[i + 1 : close])
            _add_entity(entities, _LEGACY_MARKERS[ch], start, out.utf16 - start)
            i = close + 1
            continue
        out.append(ch)
        i += 1
    return out.text(), _sorted_entities(entities)


def strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trim surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped_left = text.lstrip()
    cut = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    adjusted = []
    for entity in entities:
        start = max(entity["offset"] - cut, 0)
        end = min(entity["offset"] + entity["length"] - cut, total)
        if end > start:
            adjusted.append({**entity, "offset": start, "length": end - start})
    return result, adjusted
