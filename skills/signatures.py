"""Signatures the LLM sees, and the binding + validation of a call against them.

Two sources: a Python handler's type hints (validated with a pydantic model built from them) and
an MCP tool's JSON Schema (validated with jsonschema). Both bind positional arguments the way
Python would and name the argument at fault when a call is bad.
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from skills.records import SkillContext, SkillError

__all__ = ["ArgumentError", "FunctionShape", "SchemaShape", "SignatureProblem", "schema_type"]

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


class ArgumentError(SkillError):
    """A call whose arguments do not fit the signature; the message names the argument."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_arguments")


class SignatureProblem(ValueError):
    """A handler whose signature cannot be offered to a program (reported as a load error)."""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            parts.append(f"unexpected argument {where!r}")
            continue
        parts.append(f"argument {where!r}: {error['msg']} (got {_short(error.get('input'))})")
    return "; ".join(parts)


def _plain(annotation: Any) -> Any:
    """The type an Annotated[...] wraps: what the signature shows (the schema has the rest)."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


@dataclass
class FunctionShape:
    """A Python handler's offered signature: the text, the schema and a validating binder."""

    python_name: str
    signature: str
    docstring: str
    json_schema: dict[str, Any]
    context_param: str | None
    _bind_sig: inspect.Signature = field(repr=False)
    _model: type[BaseModel] = field(repr=False)

    @classmethod
    def of(cls, fn: Callable[..., Any], python_name: str) -> FunctionShape:
        try:
            # extras kept: Annotated[int, Field(ge=1)] constraints are validated and in the schema
            hints = get_type_hints(fn, include_extras=True)
            sig = inspect.signature(fn, eval_str=True)
        except Exception as exc:
            raise SignatureProblem(f"type hints of {python_name}() do not resolve: {exc}") from exc
        context_param = None
        offered = []
        fields: dict[str, Any] = {}
        for param in sig.parameters.values():
            if hints.get(param.name) is SkillContext:
                context_param = param.name
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                raise SignatureProblem(
                    f"{python_name}() takes {param}: only named parameters can be validated"
                )
            annotation = hints.get(param.name, Any)
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (annotation, default)
            offered.append(param.replace(annotation=_plain(param.annotation)))
        try:
            model = create_model(
                f"{python_name}_arguments",
                __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
                **fields,
            )
            schema = model.model_json_schema()
        except Exception as exc:
            raise SignatureProblem(f"{python_name}(): parameters not describable: {exc}") from exc
        schema.pop("title", None)
        shown = sig.replace(parameters=offered, return_annotation=_plain(sig.return_annotation))
        return cls(
            python_name=python_name,
            signature=str(shown).replace("typing.", ""),
            docstring=inspect.getdoc(fn) or "",
            json_schema=schema,
            context_param=context_param,
            _bind_sig=shown,
            _model=model,
        )

    def bind(self, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for the handler, validated and with defaults filled in."""
        try:
            bound = self._bind_sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise ArgumentError(f"{self.python_name}(): {exc}") from None
        try:
            valid = self._model.model_validate(dict(bound.arguments))
        except ValidationError as exc:
            raise ArgumentError(f"{self.python_name}(): {_explain(exc)}") from None
        return {name: getattr(valid, name) for name in type(valid).model_fields}


def schema_type(prop: Any) -> str:
    """A readable Python annotation for a JSON Schema property."""
    if not isinstance(prop, dict):
        return "Any"
    for key in ("anyOf", "oneOf"):
        if isinstance(prop.get(key), list):
            names = list(dict.fromkeys(schema_type(p) for p in prop[key]))
            return " | ".join(names) if names else "Any"
    if "enum" in prop and isinstance(prop["enum"], list):
        return "Literal[" + ", ".join(repr(v) for v in prop["enum"][:8]) + "]"
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(schema_type({**prop, "type": k}) for k in kind) or "Any"
    if kind == "array":
        items = prop.get("items")
        return f"list[{schema_type(items)}]" if isinstance(items, dict) and items else "list"
    if kind == "object":
        return "dict"
    return _SCALARS.get(str(kind), "Any")


@dataclass
class SchemaShape:
    """An MCP tool's input schema offered as a Python signature."""

    python_name: str
    signature: str
    docstring: str
    json_schema: dict[str, Any]
    order: list[str]  # positional order: required parameters first, as Python requires
    open_ended: bool  # takes names beyond `order` (**arguments)
    _validator: Draft202012Validator = field(repr=False)

    @classmethod
    def of(
        cls, schema: dict[str, Any], python_name: str, description: str, returns: str = "Any"
    ) -> SchemaShape:
        schema = schema if isinstance(schema, dict) else {}
        raw_props = schema.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        required = [n for n in schema.get("required", []) if n in props]
        named = [n for n in props if n.isidentifier() and not keyword.iskeyword(n)]
        order = [n for n in named if n in required] + [n for n in named if n not in required]
        parts = []
        for name in order:
            text = f"{name}: {schema_type(props[name])}"
            if name not in required:
                default = props[name].get("default") if isinstance(props[name], dict) else None
                text += f" = {default!r}"
            parts.append(text)
        # an absent additionalProperties counts as closed: the signature shown is a Python one,
        # and a misspelt keyword should fail like it would in Python, not be dropped by the server
        extra = schema.get("additionalProperties")
        open_ended = len(named) < len(props) or (extra is not None and extra is not False)
        if open_ended:
            parts.append("**arguments: Any")
        lines = [description.strip()] if description.strip() else []
        documented = [
            f"    {n}: {props[n]['description']}"
            for n in props
            if isinstance(props[n], dict) and props[n].get("description")
        ]
        if documented:
            lines += ["", "Args:", *documented]
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:
            raise SignatureProblem(f"{python_name}: input schema is not valid: {exc}") from exc
        return cls(
            python_name=python_name,
            signature=f"({', '.join(parts)}) -> {returns}",
            docstring="\n".join(lines),
            json_schema=schema,
            order=order,
            open_ended=open_ended,
            _validator=Draft202012Validator(schema),
        )

    def bind(self, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The tool's `arguments` object, validated against its schema."""
        name = self.python_name
        if len(args) > len(self.order):
            raise ArgumentError(
                f"{name}() takes {len(self.order)} positional arguments but {len(args)} were given"
            )
        arguments = dict(zip(self.order, args, strict=False))
        for key, value in kwargs.items():
            if key in arguments:
                raise ArgumentError(f"{name}() got multiple values for argument {key!r}")
            if not self.open_ended and key not in self.order:
                raise ArgumentError(
                    f"{name}() got an unexpected keyword argument {key!r} "
                    f"(takes: {', '.join(self.order) or 'no arguments'})"
                )
            arguments[key] = value
        # an optional parameter passed as None counts as not given
        required = set(self.json_schema.get("required", []))
        arguments = {k: v for k, v in arguments.items() if v is not None or k in required}
        missing = [n for n in self.json_schema.get("required", []) if n not in arguments]
        if missing:
            raise ArgumentError(f"{name}() missing required argument(s): {', '.join(missing)}")
        error = best_match(self._validator.iter_errors(arguments))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path)
            label = f"argument {where!r}" if where else "arguments"
            raise ArgumentError(f"{name}(): {label}: {error.message}")
        return arguments
