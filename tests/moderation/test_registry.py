"""Moderation knows its kinds only through the registry each app fills."""

import ast
from pathlib import Path

import pytest

import moderation
from moderation import registry

USERS_OF_MODERATION = ("forum", "accounts", "salon", "attachments")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_moderation_imports_none_of_the_apps_that_use_it():
    root = Path(moderation.__file__).parent
    offending = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in _imported_modules(path)
        if name.split(".")[0] in USERS_OF_MODERATION
    }
    assert not offending


def test_every_app_registers_its_kinds():
    names = {kind.name for kind in registry.kinds()}
    assert {"question", "answer", "reply", "physician_application"} <= names
    for kind in registry.kinds():
        assert kind.approve_label and kind.reject_label and kind.template


def test_the_kind_of_an_unregistered_object_is_a_lookup_error():
    from moderation.models import BlockedTerm

    with pytest.raises(LookupError):
        registry.kind_of(BlockedTerm)
