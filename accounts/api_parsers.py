"""The API's JSON parser, bounded: a body nested deeper than any real request is refused (400)
before `json` recurses into it.

A ~6 KB body of 1,000 nested arrays made CPython's parser raise RecursionError, a 500 on every JSON
endpoint: a cheap denial of service. Nothing the API accepts nests deeper than a segment rule tree
(a few levels); MAX_JSON_DEPTH leaves room for that many times over.
"""

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` (brackets inside strings do not count).

    Linear and iterative, so it cannot itself run out of stack; most bodies hold fewer opening
    brackets than the limit and are passed without a scan."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _refuse_constant(value: str):
    raise ValueError(f"{value} is not valid JSON")


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not valid {encoding} text.") from error
        if json_depth_exceeds(text):
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused.")
        try:
            return json.loads(text, parse_constant=_refuse_constant if self.strict else None)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"JSON parse error - {error}") from error
