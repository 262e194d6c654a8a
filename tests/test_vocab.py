"""gpukit.vocab defines each label, annotation and resource name once (issue 13).

A module may alias a vocabulary name (``QUEUE_LABEL = vocab.KUEUE_QUEUE_LABEL``) but not
write the string again as a constant of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gpukit import vocab

ROOT = Path(vocab.__file__).resolve().parent
VALUES = {getattr(vocab, n): n for n in vocab.__all__ if isinstance(getattr(vocab, n), str)}
#: Short words (e.g. "volcano", "gpukit") are also ordinary values elsewhere.
MIN_LENGTH = 9
#: Modules that still write a vocabulary string as a constant of their own (none left).
PENDING: set[str] = set()


def redefinitions() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).as_posix()
        if path.name == "vocab.py" or rel in PENDING:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(
                node.value, ast.Constant
            ):
                value = node.value.value
                if isinstance(value, str) and len(value) >= MIN_LENGTH and value in VALUES:
                    found.append(f"{rel}:{node.lineno} writes {value!r}: use vocab.{VALUES[value]}")
    return found


def test_each_name_is_defined_once():
    assert redefinitions() == []


def test_pending_modules_still_exist():
    for rel in PENDING:
        assert (ROOT.parent / rel).is_file(), f"{rel} is gone: take it off PENDING"
