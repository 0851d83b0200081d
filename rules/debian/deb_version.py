"""Debian version ordering, as ``dpkg --compare-versions`` defines it (deb-version(7)).

Native so resolving never spawns one process per comparison.
"""

from __future__ import annotations

import functools
import re

_DIGITS = re.compile(r"\d*")
_NON_DIGITS = re.compile(r"\D*")


def _split(version: str) -> tuple[int, str, str]:
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        epoch = int(head)
    upstream, _, revision = version.rpartition("-")
    if not upstream:
        upstream, revision = revision, ""
    return epoch, upstream, revision


def _char_order(c: str) -> int:
    # '~' sorts before everything, even the end of the string; letters before non-letters.
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _compare_part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        na = _NON_DIGITS.match(a, i)
        nb = _NON_DIGITS.match(b, j)
        assert na is not None
        assert nb is not None
        sa, sb = na.group(), nb.group()
        if sa != sb:
            for k in range(max(len(sa), len(sb))):
                ca = _char_order(sa[k]) if k < len(sa) else 0
                cb = _char_order(sb[k]) if k < len(sb) else 0
                if ca != cb:
                    return -1 if ca < cb else 1
        i, j = na.end(), nb.end()
        da = _DIGITS.match(a, i)
        db = _DIGITS.match(b, j)
        assert da is not None
        assert db is not None
        ia = int(da.group() or "0")
        ib = int(db.group() or "0")
        if ia != ib:
            return -1 if ia < ib else 1
        i, j = da.end(), db.end()
    return 0


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b``."""
    if a == b:
        return 0
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


version_key = functools.cmp_to_key(compare)


_RELATIONS = {
    ">=": (0, 1),
    ">": (0, 1),
    "<=": (-1, 0),
    "<": (-1, 0),
    ">>": (1,),
    "<<": (-1,),
    "=": (0,),
    "==": (0,),
}


def satisfies(version: str, op: str, wanted: str) -> bool:
    """Whether ``version`` meets a relation such as ``>= 2.36``."""
    # Obsolete '<' and '>' mean '<=' and '>=' (deb-control(5)).
    accepted = _RELATIONS.get(op)
    if accepted is None:
        raise ValueError(f"unknown version relation {op!r}")
    return compare(version, wanted) in accepted
