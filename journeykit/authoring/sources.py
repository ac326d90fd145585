"""Where a journey comes from on the command line: a file path, the name of a journey in
the journeys directory, or a version hash recorded in the database (``JourneyVersion``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from journeykit.engine.book import parse_source, version_of
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import JourneyVersion
from journeykit.language.errors import display_path
from journeykit.language.journey import Journey
from journeykit.language.loading import load_journey


class SourceError(ValueError):
    """The journey cannot be found or read; the message says what was tried."""


@dataclass(frozen=True)
class JourneySource:
    journey: Journey
    source: str
    label: str  # what to call it in output: the path, the name or name@version

    @property
    def version(self) -> str:

        return version_of(self.source)


def looks_like_path(arg: str) -> bool:
    return arg.endswith((".yaml", ".yml")) or "/" in arg or Path(arg).is_file()


def from_file(path: Path) -> JourneySource:
    """A journey file, validated (raises ``SpecErrors`` with file:line:col problems)."""

    if not path.is_file():
        raise SourceError(f"{path}: no such file")

    journey = load_journey(path)
    return JourneySource(journey, path.read_text(encoding="utf-8"), display_path(path))


def resolve(arg: str, journeys_dir: Path, database_url: str | None = None) -> JourneySource:
    """``arg`` as a path, a journey name in ``journeys_dir``, or ``name@version`` / a version
    hash in the database."""
    if looks_like_path(arg):
        return from_file(Path(arg))
    if database_url and ("@" in arg or _is_hash(arg)):
        return from_database(arg, database_url)
    for suffix in (".yaml", ".yml"):
        path = journeys_dir / f"{arg}{suffix}"
        if path.is_file():
            return from_file(path)
    known = sorted(p.stem for p in journeys_dir.glob("*.y*ml"))
    hint = f"known journeys: {', '.join(known)}" if known else f"no journeys in {journeys_dir}"
    raise SourceError(f"no journey named {arg!r} ({hint}; or give a file path)")


def _is_hash(arg: str) -> bool:
    return len(arg) >= 6 and all(c in "0123456789abcdef" for c in arg)


def from_database(arg: str, database_url: str) -> JourneySource:
    """A snapshotted version: ``name@abcd12`` or ``abcd12`` (a unique prefix of the hash)."""

    name, _, prefix = arg.rpartition("@")
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = select(JourneyVersion).where(col(JourneyVersion.hash).startswith(prefix))
            if name:
                query = query.where(JourneyVersion.journey == name)
            rows = list(session.exec(query).all())
    finally:
        engine.dispose()
    if not rows:
        raise SourceError(f"no journey version {arg!r} in the database (see `journeys status`)")
    if len(rows) > 1:
        raise SourceError(f"{arg!r} matches {len(rows)} versions: give more of the hash")
    row = rows[0]
    return JourneySource(parse_source(row.source), row.source, f"{row.journey}@{row.hash}")


def versions(journey: str, database_url: str) -> list[tuple[str, str]]:
    """(hash, created_at) of every snapshotted version of ``journey``, oldest first."""

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(JourneyVersion)
                .where(JourneyVersion.journey == journey)
                .order_by(col(JourneyVersion.created_at))
            ).all()
            return [(r.hash, r.created_at.isoformat()) for r in rows]
    finally:
        engine.dispose()
