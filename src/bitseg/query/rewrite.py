"""Rewrites: tree → tree functions that give the executor a simpler tree with the same members.

The order in which they run is `REWRITES`, in one place. None of them needs the index.

>>> from bitseg.query.parser import parse
>>> from bitseg.query.printer import to_text
>>> to_text(normalize(parse("NOT NOT (a = 1 AND (b = 2 AND a = 1)) OR (c = 3 OR ALL)")))
'ALL'
"""

from __future__ import annotations

from collections.abc import Callable

from bitseg.query.expressions import All, And, Node, Not, Or


def _children(node: Node, rewrite: Callable[[Node], Node]) -> Node:
    """Apply `rewrite` bottom-up."""
    if isinstance(node, Not):
        node = Not(_children(node.operand, rewrite), pos=node.pos)
    elif isinstance(node, And | Or):
        node = type(node)(tuple(_children(o, rewrite) for o in node.operands), pos=node.pos)
    return rewrite(node)


def flatten(node: Node) -> Node:
    """`a AND (b AND c)` → `a AND b AND c`; the same for OR."""
    def step(n: Node) -> Node:
        if isinstance(n, And | Or):
            flat: list[Node] = []
            for operand in n.operands:
                flat.extend(operand.operands if type(operand) is type(n) else (operand,))  # type: ignore[attr-defined]
            return type(n)(tuple(flat), pos=n.pos)
        return n
    return _children(node, step)


def drop_double_not(node: Node) -> Node:
    """`NOT NOT x` → `x`."""
    def step(n: Node) -> Node:
        return n.operand.operand if isinstance(n, Not) and isinstance(n.operand, Not) else n
    return _children(node, step)


def dedupe(node: Node) -> Node:
    """`a AND b AND a` → `a AND b`; a single operand stands alone."""
    def step(n: Node) -> Node:
        if isinstance(n, And | Or):
            operands = tuple(dict.fromkeys(n.operands))
            return operands[0] if len(operands) == 1 else type(n)(operands, pos=n.pos)
        return n
    return _children(node, step)


def fold_all(node: Node) -> Node:
    """`x OR ALL` → `ALL`; `x AND ALL` → `x`; `NOT PURCHASES MATCHES` stays (it is not ALL)."""
    def step(n: Node) -> Node:
        if isinstance(n, Or) and any(isinstance(o, All) for o in n.operands):
            return All(pos=n.pos)
        if isinstance(n, And):
            kept = tuple(o for o in n.operands if not isinstance(o, All))
            if not kept:
                return All(pos=n.pos)
            return kept[0] if len(kept) == 1 else And(kept, pos=n.pos)
        return n
    return _children(node, step)


REWRITES: tuple[Callable[[Node], Node], ...] = (flatten, drop_double_not, flatten, dedupe, fold_all)


def normalize(node: Node) -> Node:
    """The rewrites in order, repeated until the tree stops changing: one rewrite can leave work for an
    earlier one (dedupe turns `NOT (NOT a OR NOT a)` into `NOT NOT a`). Each pass only shrinks the tree,
    so this ends after a few passes.

    >>> from bitseg.query.parser import parse
    >>> from bitseg.query.printer import to_text
    >>> to_text(normalize(parse("NOT (NOT a = 1 OR NOT a = 1)")))
    'a = 1'
    """
    while True:
        before = node
        for rewrite in REWRITES:
            node = rewrite(node)
        if node == before:
            return node


