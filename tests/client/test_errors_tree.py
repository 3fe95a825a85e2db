"""The exception tree drawn in ``dmtools.errors`` is the real one, and it is the only one.

Everything here is derived from the code: the drawing is parsed and compared with the classes'
bases, and every module of the package is searched for exception classes defined elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

import dmtools
from dmtools import errors

#: The emulator's own errors are its wire format (turned into HTTP answers), never raised to
#: a user of the client; they stay with the sandbox.
EMULATOR = "dmtools.sandbox"


def drawn_tree() -> dict[str, str | None]:
    """Class name -> parent name, as drawn in the errors module docstring."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.split("::", 1)[1].splitlines():
        found = re.match(r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w+)", line)
        if not found:
            if parents and not line.strip():
                stack = []  # a blank line ends one tree (errors, then warnings)
            continue
        if found.group("name") not in vars(errors):
            break  # past the drawing
        depth = len(found.group("indent"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found.group("name")] = stack[-1][1] if stack else None
        stack.append((depth, found.group("name")))
    return parents


def exception_classes(module: ModuleType) -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    }


def test_the_drawing_shows_every_class_of_the_module_with_its_real_parent() -> None:
    parents = drawn_tree()
    classes = exception_classes(errors)
    assert set(parents) == set(classes)
    for name, cls in classes.items():
        drawn = parents[name]
        if drawn is None:  # a root: derives from Exception or a builtin warning only
            assert all(base.__module__ == "builtins" for base in cls.__bases__), name
        else:
            dmtools_bases = [b for b in cls.__bases__ if b.__module__ == errors.__name__]
            assert [b.__name__ for b in dmtools_bases] == [drawn], name


def test_no_exception_class_is_defined_outside_the_errors_module() -> None:
    elsewhere = []
    for info in pkgutil.walk_packages(dmtools.__path__, prefix="dmtools."):
        name = info.name
        if name == errors.__name__ or name.startswith(EMULATOR):
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue  # private modules: their errors never leave them
        module = importlib.import_module(name)
        elsewhere += [f"{name}.{cls}" for cls in exception_classes(module)]
    assert elsewhere == []


def test_the_old_import_locations_still_work() -> None:
    from dmtools import auth, bulk, loader
    from dmtools.auth import exceptions, login, store
    from dmtools.bulk import journal

    assert exceptions.LoginError is auth.LoginError is errors.LoginError
    assert exceptions.SessionExpired is errors.SessionExpired
    assert exceptions.ScopeChangedWarning is errors.ScopeChangedWarning
    assert store.TokenStoreError is auth.TokenStoreError is errors.TokenStoreError
    assert journal.JournalError is bulk.JournalError is errors.JournalError
    assert login.LegacyGrantWarning is auth.LegacyGrantWarning is errors.LegacyGrantWarning
    assert loader.IncompleteLoadWarning is errors.IncompleteLoadWarning


def test_every_warning_can_be_filtered_with_one_class() -> None:
    warnings = [cls for cls in exception_classes(errors).values() if issubclass(cls, Warning)]
    assert warnings and all(issubclass(cls, errors.DailymotionWarning) for cls in warnings)
    assert all(issubclass(cls, UserWarning) for cls in warnings)  # as before: user warnings
