"""Building the knowledge base's index from its sources: for `bot kb build` and for the
console, when agents answer knowledge gaps with new entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.service.tiers import load_tiers
from bot.settings import Settings
from knowledge.build import BuildReport, build_index
from knowledge.embedder import Embedder, make_embedder
from knowledge.index import current_build
from knowledge.sources import SourceError, load_sources, source_files

__all__ = ["BuildError", "build_from_sources", "embedder_for"]


class BuildError(Exception):
    """The sources could not be read or the index written; the previous index stays."""


def embedder_for(settings: Settings) -> Embedder:
    return make_embedder(
        settings.kb_engine,
        model=settings.kb_model,
        prefix=settings.kb_query_prefix,
        passage_prefix=settings.kb_passage_prefix,
    )


def build_from_sources(settings: Settings, paths: Sequence[Path] = ()) -> BuildReport:
    """A new index of ``paths`` (the configured sources by default), made the current one."""
    paths = list(paths) or list(settings.kb_sources)
    try:
        files = source_files(paths)
        entries = load_sources(files, known_tiers=[tier.id for tier in load_tiers(settings.tiers_file).tiers])
    except SourceError as error:
        kept = current_build(settings.kb_dir)
        raise BuildError(f"{error} (the index was not changed{'' if kept else '; there is none yet'})") from None
    if not entries:
        raise BuildError(f"no entries in {', '.join(map(str, paths))}")
    try:
        return build_index(
            entries, embedder_for(settings), settings.kb_dir, sources=files, hnsw_above=settings.kb_hnsw_above
        )
    except OSError as error:
        raise BuildError(f"the index could not be built: {error} (the previous index stays)") from None
