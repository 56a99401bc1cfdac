"""code-analysis skill: Python source analysed with ast, pyflakes (issues) and radon (complexity, metrics)."""

from __future__ import annotations

import ast
from typing import Any

from pyflakes import api as pyflakes_api
from pyflakes.messages import Message
from radon.complexity import cc_rank, cc_visit_ast
from radon.metrics import mi_visit
from radon.raw import analyze

__all__ = ["analyse_python", "code_analysis"]

SUPPORTED = ("python", "py", "python3")
Item = dict[str, Any]


class _Collector:
    """pyflakes reporter that keeps messages instead of printing them."""

    def __init__(self) -> None:
        self.issues: list[Item] = []
        self.syntax_errors: list[Item] = []

    def unexpectedError(self, filename: str, msg: str) -> None:
        self.syntax_errors.append({"line": None, "column": None, "message": str(msg), "text": None})

    def syntaxError(
        self, filename: str, msg: str, lineno: int, offset: int, text: str | None
    ) -> None:
        line_text = text.strip() if isinstance(text, str) else None
        self.syntax_errors.append(
            {"line": lineno, "column": offset, "message": msg, "text": line_text}
        )

    def flake(self, message: Message) -> None:
        self.issues.append(
            {
                "line": message.lineno,
                "kind": _kebab(type(message).__name__),
                "message": message.message % message.message_args,
            }
        )


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _ast_issues(tree: ast.AST) -> list[Item]:
    issues: list[Item] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            issues.append(
                {
                    "line": node.lineno,
                    "kind": "bare-except",
                    "message": "bare 'except:' also catches SystemExit and KeyboardInterrupt",
                }
            )
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defaults = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            for default in defaults:
                if isinstance(default, ast.List | ast.Dict | ast.Set):
                    issues.append(
                        {
                            "line": default.lineno,
                            "kind": "mutable-default",
                            "message": f"mutable default argument in '{node.name}' is shared between calls",
                        }
                    )
    return issues


def _complexity_blocks(tree: ast.AST) -> list[Any]:
    """Functions and methods (nested ones too) with their radon complexity."""
    blocks: list[Any] = []
    for block in cc_visit_ast(tree):
        blocks.append(block)
        blocks.extend(getattr(block, "closures", []))
        for method in getattr(block, "methods", []):
            blocks.append(method)
            blocks.extend(getattr(method, "closures", []))
    return blocks


def _functions(tree: ast.AST) -> list[Item]:
    complexity = {(block.name, block.lineno): block for block in _complexity_blocks(tree)}
    found: list[Item] = []

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                block = complexity.get((child.name, child.lineno))
                score = block.complexity if block else 1
                args = child.args.posonlyargs + child.args.args + child.args.kwonlyargs
                found.append(
                    {
                        "name": child.name,
                        "line": child.lineno,
                        "end_line": child.end_lineno,
                        "args": [a.arg for a in args],
                        "is_async": isinstance(child, ast.AsyncFunctionDef),
                        "is_method": owner is not None,
                        "class": owner,
                        "complexity": score,
                        "rank": cc_rank(score),
                    }
                )
                visit(child, owner)
            elif isinstance(child, ast.ClassDef):
                visit(child, child.name)
            else:
                visit(child, owner)

    visit(tree, None)
    return found


def _classes(tree: ast.AST) -> list[Item]:
    return [
        {
            "name": node.name,
            "line": node.lineno,
            "bases": [ast.unparse(b) for b in node.bases],
            "methods": [
                n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ],
        }
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]


def _imports(tree: ast.AST) -> list[Item]:
    found: list[Item] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(
                    {
                        "module": alias.name,
                        "names": [alias.asname or alias.name],
                        "line": node.lineno,
                    }
                )
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append(
                {"module": module, "names": [a.name for a in node.names], "line": node.lineno}
            )
    return sorted(found, key=lambda i: i["line"])


def analyse_python(code: str) -> Item:
    collector = _Collector()
    pyflakes_api.check(code, "<code>", collector)
    result: Item = {
        "language": "python",
        "supported": True,
        "valid": not collector.syntax_errors,
        "syntax_errors": collector.syntax_errors,
        "functions": [],
        "classes": [],
        "imports": [],
        "issues": [],
        "metrics": {"lines": len(code.splitlines())},
    }
    if collector.syntax_errors:
        return result
    tree = ast.parse(code)
    raw = analyze(code)
    functions = _functions(tree)
    scores = [f["complexity"] for f in functions]
    issues = collector.issues + _ast_issues(tree)
    result.update(
        {
            "functions": functions,
            "classes": _classes(tree),
            "imports": _imports(tree),
            "issues": sorted(issues, key=lambda i: (i["line"] or 0, i["kind"])),
            "metrics": {
                "lines": raw.loc,
                "code_lines": raw.sloc,
                "comment_lines": raw.comments,
                "blank_lines": raw.blank,
                "average_complexity": round(sum(scores) / len(scores), 2) if scores else 0,
                "max_complexity": max(scores, default=0),
                "maintainability_index": round(mi_visit(code, multi=True), 1),
            },
        }
    )
    return result


def code_analysis(code: str, language: str = "python") -> dict:
    """Analyse source code without running it; returns a dict (see the keys below).

    Python: keys valid, syntax_errors, functions (with complexity), classes, imports, issues
    (pyflakes findings, bare-except, mutable-default; each with line, kind, message) and metrics.
    Other languages: supported=False with a message and line counts only.
    """
    if language.strip().lower() in SUPPORTED:
        return analyse_python(code)
    lines = code.splitlines()
    return {
        "language": language,
        "supported": False,
        "message": f"{language!r} code is not analysed: only Python is supported (parsed with ast, pyflakes and radon)",
        "metrics": {
            "lines": len(lines),
            "blank_lines": sum(1 for line in lines if not line.strip()),
        },
    }
