"""Merge contexts: namespaced merge tags (`{{ cart.total }}`) whose values other apps provide.

The channels know no shop (architecture.json: campaigns never import connectors), so an app
that owns data worth showing in a message registers a *provider* for a namespace from its
`AppConfig.ready()`, the way the send engine's dispatcher is installed:

    from campaigns import merge_context

    merge_context.register(
        merge_context.MergeContext(
            namespace="cart",
            fields={"url": "", "total": "0.00", ...},      # every scalar tag and its default
            lists={"items": ("name", "quantity", ...)},     # repeatable rows and their fields
            provider=cart_for_contact,                      # (account, contact) -> dict | None
        )
    )

Interface, for a provider's author (connectors) and a caller (campaigns, SMS, automations):
- `provider(account, contact)` answers None (nothing to show: the defaults apply) or a dict of
  the namespace's scalar fields (str(value) is taken; a missing one takes its default) and, per
  list, a list of dicts of that list's fields. It runs only when a message uses one of the
  namespace's tags, at most once per rendered message; it reads, never writes, and must start
  from the account (tenant isolation). An exception inside a provider is logged and the
  defaults apply: a message is never lost to a context.
- Values are flattened to strings: `cart.total`, `cart.items` (a one-line summary),
  `cart.items.0.name`, ... Field names ending in `url` keep only http(s) addresses. Every value
  then goes through merge_tags.render, which escapes it in HTML: a provider cannot inject markup.
- `merge_tags.contact_values(contact, account)` answers a dict that loads a namespace on the first
  lookup of one of its names (`values.get("cart.total")`), so a campaign that uses no context
  tag runs no query for it. Callers need do nothing else.
- Rows: `<!--sendethic:repeat cart.items limit=3-->…{{ item.name }}…<!--/sendethic:repeat-->`
  is repeated for the first `limit` rows (merge_tags.expand_blocks), `{{ item.x }}` naming the
  row's fields; `<!--sendethic:if cart.url-->…<!--/sendethic:if-->` keeps its content only
  when the value is neither empty nor "0" (`unless`: only when it is); conditions nest. No
  other logic exists: the language stays sandboxed.
- A list's one-line text (`{{ cart.items }}`) is the provider's `<list>_summary` value.
- `known_tags()` is what merge-tag validation accepts; `menu()` what the editor offers.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
MAX_ROWS = 50  # rows kept per list: a message shows a few, never a whole order history


@dataclass(frozen=True)
class MergeContext:
    namespace: str
    fields: dict[str, str]  # scalar field -> default value
    provider: Callable[[object, object], dict | None]
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # list -> row fields
    labels: dict[str, str] = field(default_factory=dict)  # tag name -> menu label (lazy text)


_contexts: dict[str, MergeContext] = {}


def register(context: MergeContext) -> None:
    """Install (or replace: ready() may run twice in tests) the provider of a namespace."""
    names = [context.namespace, *context.fields, *context.lists]
    for fields in context.lists.values():
        names += fields
    if not all(NAME.fullmatch(name) for name in names):
        raise ValueError(f"merge context names must match {NAME.pattern}: {names}")
    if set(context.fields) & set(context.lists):
        raise ValueError("a name is either a field or a list")
    _contexts[context.namespace] = context


def unregister(namespace: str) -> None:
    _contexts.pop(namespace, None)


def registered() -> dict[str, MergeContext]:
    return dict(_contexts)


def namespace_of(name: str) -> str | None:
    """The registered namespace a tag name belongs to (`cart.total` -> "cart"), else None."""
    head, dot, _rest = name.partition(".")
    return head if dot and head in _contexts else None


def known_tags() -> set[str]:
    """Every tag name the registered contexts answer (scalars and list summaries)."""
    return {
        f"{context.namespace}.{name}"
        for context in _contexts.values()
        for name in (*context.fields, *context.lists)
    }


def list_fields(name: str) -> tuple[str, ...] | None:
    """The row fields of a list tag (`cart.items`), None when `name` is not a list."""
    namespace = namespace_of(name)
    if namespace is None:
        return None
    return _contexts[namespace].lists.get(name.partition(".")[2])


def menu() -> list[dict[str, str]]:
    return [
        {"tag": f"{{{{ {context.namespace}.{name} }}}}", "label": str(label)}
        for context in _contexts.values()
        for name, label in context.labels.items()
    ]


def _clean(name: str, value) -> str:
    text = "" if value is None else str(value)
    if name.endswith("url") and not text.startswith(("https://", "http://")):
        return ""  # a javascript: or data: address has no place in a link or an image
    return text


def defaults(namespace: str) -> dict[str, str]:
    context = _contexts[namespace]
    values = {f"{namespace}.{name}": default for name, default in context.fields.items()}
    for name in context.lists:
        values[f"{namespace}.{name}"] = ""
        values[f"{namespace}.{name}.count"] = "0"
    return values


def values_for(namespace: str, account, contact) -> dict[str, str]:
    """The namespace's values for one contact, flattened to strings; the defaults when the
    provider has nothing (or fails: logged, never raised into a send)."""
    context = _contexts[namespace]
    values = defaults(namespace)
    try:
        data = context.provider(account, contact) if contact.pk is not None else None
    except Exception:
        logger.exception("merge context %s failed for contact %s", namespace, contact.pk)
        data = None
    if not data:
        return values
    for name in context.fields:
        if data.get(name) not in (None, ""):
            values[f"{namespace}.{name}"] = _clean(name, data[name])
    for name, row_fields in context.lists.items():
        rows = [row for row in (data.get(name) or [])[:MAX_ROWS] if isinstance(row, dict)]
        prefix = f"{namespace}.{name}"
        values[f"{prefix}.count"] = str(len(rows))
        summary = data.get(f"{name}_summary")
        values[prefix] = _clean(name, summary) if summary else ""
        for index, row in enumerate(rows):
            for row_field in row_fields:
                values[f"{prefix}.{index}.{row_field}"] = _clean(row_field, row.get(row_field))
    return values
