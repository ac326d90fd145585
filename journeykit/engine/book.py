"""The journeys the engine runs, by name and by version. A version is the hash of the
file's text; every version an enrollment started on is snapshotted in ``journeyversion``,
so enrollments finish on the version they started even after the file changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML
from sqlmodel import Session

from journeykit.foundation.models import JourneyVersion
from journeykit.language.journey import Journey
from journeykit.language.loading import load_journey


def version_of(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def parse_source(source: str) -> Journey:
    """A journey from YAML text already validated once (snapshots, tests)."""
    return Journey.model_validate(YAML(typ="safe", pure=True).load(source))


@dataclass
class JourneyBook:
    """Current journeys by name, plus any older versions loaded from snapshots."""

    current: dict[str, tuple[Journey, str, str]] = field(default_factory=dict)
    _by_version: dict[str, Journey] = field(default_factory=dict)

    @classmethod
    def from_dir(cls, directory: Path) -> JourneyBook:
        """Load and validate every journey file (raises ``SpecErrors`` on a broken one)."""

        book = cls()
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            book.add(load_journey(path), path.read_text(encoding="utf-8"))
        return book

    @classmethod
    def from_sources(cls, *sources: str) -> JourneyBook:
        book = cls()
        for source in sources:
            book.add(parse_source(source), source)
        return book

    def add(self, journey: Journey, source: str) -> str:
        version = version_of(source)
        self.current[journey.name] = (journey, version, source)
        self._by_version[version] = journey
        return version

    def only(self, name: str) -> JourneyBook:
        """A book holding just the current version of ``name`` (the simulator plays one)."""
        single = type(self)()
        single.add(self.get(name), self.current[name][2])
        return single

    def names(self) -> list[str]:
        return sorted(self.current)

    def get(self, name: str) -> Journey:
        return self.current[name][0]

    def version(self, name: str) -> str:
        return self.current[name][1]

    def journeys(self) -> list[Journey]:
        return [self.current[name][0] for name in self.names()]

    def at_version(self, session: Session, version: str) -> Journey:
        """The journey an enrollment runs on (its snapshot, if the file has changed since)."""
        journey = self._by_version.get(version)
        if journey is None:
            row = session.get(JourneyVersion, version)
            if row is None:
                raise LookupError(f"journey version {version} is not snapshotted")
            journey = self._by_version[version] = parse_source(row.source)
        return journey

    def snapshot(self, session: Session, name: str, now: datetime) -> str:
        """Make sure the current version of ``name`` is stored; returns its hash."""
        _journey, version, source = self.current[name]
        if session.get(JourneyVersion, version) is None:
            session.add(JourneyVersion(hash=version, journey=name, source=source, created_at=now))
            session.flush()
        return version
