"""JSON that is not this program's session bundle: what phone apps, loggers and SDK dumps write.

The RR are the numbers under every key that names them (``rr``, ``rrData`` as Movesense writes,
``rr_intervals``, ``RRIntervals``, ``ibi``, ``ppi``...), in document order: one number or a
list per occurrence (a heart-rate notification's RRs). A top-level list of numbers is RR too.
A file of one JSON object per line, each perhaps ending with a comma (Movesense Showcase's
recordings), is read line by line. The unit comes from the values (:func:`.formats_rr.guess_unit`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from biofeedback.errors import InputError
from biofeedback.sessions import formats_limits as lim
from biofeedback.sessions.formats_bundle import parse_json
from biofeedback.sessions.formats_types import Parsed

RR_KEYS: Final = frozenset(
    {
        "rr",
        "rrdata",
        "rrs",
        "rrinterval",
        "rrintervals",
        "rri",
        "rrms",
        "ibi",
        "ibis",
        "interbeatintervals",
        "ppi",
        "ppinterval",
        "ppintervals",
        "nnintervals",
    }
)
"""Keys (lower case, letters only) whose numbers are RR intervals."""
_RR_KEY: Final = re.compile(
    r'"(?:rr|rr_?data|rrs|rr_?intervals?|rri|rr_?ms|ibis?|inter_?beat_?intervals|ppi|'
    r'pp_?intervals?|nn_?intervals)"\s*:',
    re.IGNORECASE,
)
_NUMBER_LIST: Final = re.compile(r"^\[\s*[-+]?(?:\d|\.\d)")


def sniff(head: str) -> bool:
    """JSON naming RR (or a list of numbers) that is not a ``biofeedback-session`` bundle."""
    if "biofeedback-session" in head[:65536] or '"beats"' in head[:65536]:
        return False  # a bundle (its keys in any order): parse_bundle judges it
    return bool(_NUMBER_LIST.match(head) or _RR_KEY.search(head[:65536]))


def read_json(path: Path, data: bytes) -> Parsed:
    values: list[float] = []
    keys: set[str] = set()
    for document in _documents(path, data):
        for key, value in _rr_items(document):
            keys.add(key)
            values.extend(_numbers(value))
            lim.check_count(len(values), lim.MAX_BEATS, "RR values", str(path))
    if not values:
        raise InputError(
            f"{path}: JSON without RR values (no key such as 'rr' or 'rrData' holding numbers),"
            " and not a biofeedback-session file"
        )
    meta: dict[str, Any] = {"layout": "JSON", "rr_keys": ", ".join(sorted(keys))}
    return Parsed(np.asarray(values, dtype=np.float64), None, meta, None)


def _documents(path: Path, data: bytes) -> list[object]:
    """The file as one JSON document, or as one per line (a trailing comma allowed)."""
    try:
        return [parse_json(data, str(path))]
    except InputError as whole:
        documents: list[object] = []
        for n, line in enumerate(data.splitlines(), start=1):
            item = line.strip().rstrip(b",")
            if not item or item in (b"[", b"]"):
                continue
            try:
                documents.append(parse_json(item, f"{path}: line {n}"))
            except InputError:
                raise whole from None
        return documents


def _rr_items(document: object) -> Iterator[tuple[str, object]]:
    """(key, value) of every RR key, in document order; a top-level list is RR itself."""
    if isinstance(document, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in document
    ):
        yield "(list)", document
        return
    stack: list[Iterator[tuple[str, object]]] = [_children(document)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        key, value = item
        if re.sub(r"[^a-z]", "", key.lower()) in RR_KEYS:
            yield key, value
        elif isinstance(value, dict | list):
            stack.append(_children(value))


def _children(value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        return ((str(k), v) for k, v in value.items())
    if isinstance(value, list):
        return (("", v) for v in value)
    return iter(())


def _numbers(value: object) -> list[float]:
    """The numbers of an RR key's value: a number, or a (nested) list of numbers."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    out: list[float] = []
    if isinstance(value, list):
        for item in value:
            out.extend(_numbers(item))
    return out
