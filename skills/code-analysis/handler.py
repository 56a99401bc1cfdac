"""code-analysis skill: Python source analysed with ast, pyflakes (issues) and radon (complexity, metrics)."""

import ast

from pyflakes import api as pyflakes_api
from radon.complexity import cc_rank, cc_visit_ast
from radon.metrics import mi_visit
from radon.raw import analyze

SUPPORTED = ("python", "py", "python3")


class _Collector:
    """pyflakes reporter that keeps messages instead of printing them."""

    def __init__(self):
        self.issues = []
        self.syntax_errors = []

    def unexpectedError(self, filename, msg):
        self.syntax_errors.append({"line": None, "column": None, "message": str(msg), "text": None})

    def syntaxError(self, filename, msg, lineno, offset, text):
        line_text = text.strip() if isinstance(text, str) else None
        self.syntax_errors.append(
            {"line": lineno, "column": offset, "message": msg, "text": line_text}
        )

    def flake(self, message):
        kind = _kebab(type(message).__name__)
        self.issues.append(
            {
                "line": message.lineno,
                "kind": kind,
                "message": message.message % message.message_args,
            }
        )


def _kebab(name):
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _ast_issues(tree):
    issues = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.type is None:
            issues.append(
                {
                    "line": node.lineno,
                    "kind": "bare-except",
                    "message": "bare 'except:' also catches SystemExit and KeyboardInterrupt",
                }
            )
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                if isinstance(default, (ast.List, ast.Dict, ast.Set)):
                    issues.append(
                        {
                            "line": default.lineno,
                            "kind": "mutable-default",
                            "message": f"mutable default argument in '{node.name}' is shared between calls",
                        }
                    )
    return issues


def _functions(tree):
    complexity = {(block.name, block.lineno): block for block in _complexity_blocks(tree)}
    found = []

    def visit(node, owner):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                block = complexity.get((child.name, child.lineno))
                score = block.complexity if block else 1
                found.append(
                    {
                        "name": child.name,
                        "line": child.lineno,
                        "end_line": child.end_lineno,
                        "args": [
                            a.arg
                            for a in child.args.posonlyargs
                            + child.args.args
                            + child.args.kwonlyargs
                        ],
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


def _complexity_blocks(tree):
    """Functions and methods (nested ones too) with their radon complexity."""
    blocks = []
    for block in cc_visit_ast(tree):
        blocks.append(block)
        blocks.extend(getattr(block, "closures", []))
        for method in getattr(block, "methods", []):
            blocks.append(method)
            blocks.extend(getattr(method, "closures", []))
    return blocks


def _classes(tree):
    return [
        {
            "name": node.name,
            "line": node.lineno,
            "bases": [ast.unparse(b) for b in node.bases],
            "methods": [
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            ],
        }
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]


def _imports(tree):
    found = []
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


def analyse_python(code):
    collector = _Collector()
    pyflakes_api.check(code, "<code>", collector)
    raw = analyze(code) if not collector.syntax_errors else None
    result = {
        "language": "python",
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


def handler(args, ctx):
    language = args.get("language", "python").lower()
    if language not in SUPPORTED:
        raise ValueError(f"language '{args.get('language')}' is not supported (supported: python)")
    return analyse_python(args["code"])
