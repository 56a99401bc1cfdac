"""Session files: upload into the session's workspace (the program's working directory), list,
download. Names are plain file names (no directories, no dot files), sizes are capped."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from agent.http.context import Principal, context_of, principal
from agent.http.problems import Problem
from agent.http.routes import ID_PATTERN

__all__ = ["listing", "router", "save_file"]

router = APIRouter(tags=["files"])
Auth = Annotated[Principal, Depends(principal)]
SessionId = Annotated[str, PathParam(pattern=ID_PATTERN)]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ +-]{0,127}$")
CHUNK = 1 << 16


def _safe_name(raw: str | None) -> str:
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not NAME.match(name) or ".." in name:
        raise Problem(
            "bad_request",
            f"file name {raw!r} is not allowed: letters, digits, '._ +-', no leading dot, "
            "at most 128 characters",
        )
    return name


def _inside(root: Path, name: str) -> Path:
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()) or path.is_symlink():
        raise Problem("not_found", f"no file {name!r}")
    return path


def listing(root: Path) -> list[dict[str, Any]]:
    files = []
    for path in sorted(root.iterdir()):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            stat = path.stat()
            files.append({"name": path.name, "size": stat.st_size, "modifiedAt": stat.st_mtime})
    return files


async def save_file(
    root: Path, raw_name: str | None, chunks: AsyncIterator[bytes], limit: int
) -> dict[str, Any]:
    """Write one file into a workspace under its plain name, all or nothing (a partial upload
    never shows); Problem (bad_request, body_too_large) for a bad name or a file over `limit`.
    The REST upload and the Gradio app's attachments both land here."""
    name = _safe_name(raw_name)
    target = _inside(root, name)
    partial = target.with_name(f".{name}.part")
    size = 0
    try:
        with partial.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise Problem("body_too_large", f"{name!r} is larger than {limit} bytes")
                out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return {"name": name, "size": size}


async def _read(upload_file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload_file.read(CHUNK):
        yield chunk


@router.post("/agent/sessions/{session_id}/files", status_code=201)
async def upload(
    session_id: SessionId, files: list[UploadFile], request: Request, who: Auth
) -> dict[str, Any]:
    """Multipart field `files` (one or more). An unknown session id starts that session."""
    ctx = context_of(request)
    row = await ctx.store.claim_session(session_id, who.owner)
    if row.owner != who.owner:
        raise Problem("not_found", f"no session {session_id!r}")
    root = ctx.runtime.kernels.workspace(session_id)
    limit = ctx.settings.server.max_upload_bytes
    saved = [await save_file(root, f.filename, _read(f), limit) for f in files]
    return {"sessionId": session_id, "files": saved}


async def _workspace(request: Request, session_id: str, who: Principal) -> Path:
    ctx = context_of(request)
    row = await ctx.store.session(session_id)
    if row is None or row.owner != who.owner:
        raise Problem("not_found", f"no session {session_id!r}")
    return ctx.runtime.kernels.workspace(session_id)


@router.get("/agent/sessions/{session_id}/files")
async def list_files(session_id: SessionId, request: Request, who: Auth) -> dict[str, Any]:
    root = await _workspace(request, session_id, who)
    return {"sessionId": session_id, "files": listing(root)}


@router.get("/agent/sessions/{session_id}/files/{name}", response_class=FileResponse)
async def download(session_id: SessionId, name: str, request: Request, who: Auth) -> FileResponse:
    root = await _workspace(request, session_id, who)
    path = _inside(root, _safe_name(name))
    if not path.is_file():
        raise Problem("not_found", f"no file {name!r} in session {session_id!r}")
    return FileResponse(path, filename=path.name)
