"""Text from a log made safe for the medium it is shown in.

Segment values, column names, file names and variant names come from the data and reach a
terminal, a pull-request comment, a CI job summary, a JUnit report and error messages.
Each medium has its own hazards:

- **terminal** (:func:`printable`): control characters (an ANSI escape clears the screen or
  recolours the verdict, a carriage return overwrites it) and bidirectional overrides (text
  shown in another order than it is) are removed;
- **markdown** (:func:`markdown_text`): a ``|`` splits a table cell, a newline ends a list
  item or table row, HTML is rendered by GitHub (``<img>``, ``<details>``), ``[x](url)``
  becomes a link, a backtick a code span and ``*`` emphasis: these are escaped so the value
  shows as text (a ``[`` alone is left as it is: without a ``](`` nothing links);
- **XML** (:func:`xml_text`): characters XML 1.0 forbids (most C0 controls, lone
  surrogates, U+FFFE/U+FFFF) make the whole JUnit file unparseable: they are removed;
- **UTF-8** (:func:`unicode_safe`): a lone surrogate (how Python spells an undecodable byte
  of a file name) cannot be encoded: it becomes U+FFFD.
"""

from __future__ import annotations

import re

# C0 and C1 controls except tab and newline (handled by the callers), DEL, and the
# bidirectional embedding/override/isolate characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MARKDOWN = re.compile(r"([\\`*|])")
_LINK = re.compile(r"\](?=[(\[])")  # [text](url), [text][ref]: the "]" that makes a link
_HTML = {"&": "&amp;", "<": "&lt;"}  # no tag can open without "<"


def unicode_safe(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (so it encodes as UTF-8)."""
    return _SURROGATE.sub("\ufffd", text)


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` without control or bidi characters; tabs (and newlines unless ``newlines``)
    become spaces."""
    text = unicode_safe(text).replace("\t", " ").replace("\r\n", "\n")
    if not newlines:
        text = text.replace("\n", " ")
    return _CONTROL.sub("", text)


def markdown_text(text: str) -> str:
    """``text`` shown literally in GitHub-flavoured markdown, on one line (a table cell, a
    list item, a heading): markdown punctuation backslash-escaped, HTML as entities."""
    text = _LINK.sub(r"\\]", _MARKDOWN.sub(r"\\\1", printable(text)))
    return "".join(_HTML.get(c, c) for c in text)


def code_fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (so it cannot close)."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (the file must stay parseable)."""
    return _XML_INVALID.sub("", printable(text, newlines=True))
