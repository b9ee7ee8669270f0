"""``harness models``, ``harness suites`` and ``harness reviewers``: the command groups, and the ``--store``
option every command shares. ``harness.cli`` adds the groups to the ``harness`` app.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.errors import HarnessError

models_app = typer.Typer(help="List, prepare and create models (embedded, hub, Ollama).", no_args_is_help=True)
suites_app = typer.Typer(help="List, check and import test suites.", no_args_is_help=True)
reviewers_app = typer.Typer(help="Reviewer accounts for the playground's login.", no_args_is_help=True)

StoreOption = Annotated[Path | None, typer.Option("--store", help="SQLite store (default $HARNESS_HOME/store.sqlite)")]


def _open_store(path: Path | None) -> Any:
    from harness.paths import default_store_path
    from harness.store import Store

    return Store(path or default_store_path())


@models_app.command("list")
def models_list() -> None:
    """Embedded models (shipped in PyPI packages) and whether they are prepared."""
    from harness.models.embedded import EMBEDDED_MODELS, is_prepared

    for model in EMBEDDED_MODELS.values():
        state = "prepared" if is_prepared(model.name) else "not prepared (run `harness models prepare`)"
        typer.echo(f"{model.name:24} {model.kind:10} {model.package:22} {state}\n{'':24} {model.description}")
    typer.echo("\nAny transformers model id or local path, an Ollama tag (backend: ollama), a GGUF file or local"
               " Ollama tag (backend: llamacpp) or an OpenAI-compatible endpoint (backend: openai) can be named in"
               " an experiment's candidates.")


@models_app.command("prepare")
def models_prepare(force: Annotated[bool, typer.Option(help="convert again even if cached")] = False) -> None:
    """Convert the embedded SmolLM2 GGUF to cached safetensors (once, ~25 s) and check MiniLM."""
    from harness.models.embedded import minilm_path, prepare_embedded_llm

    typer.echo(f"smollm2-135m-instruct -> {prepare_embedded_llm(force=force)}")
    typer.echo(f"all-minilm-l6-v2      -> {minilm_path()}")


@models_app.command("create")
def models_create(
    name: Annotated[str, typer.Argument(help="name of the Ollama model to create")],
    modelfile: Annotated[Path, typer.Option(help="Modelfile to create it from")],
    host: Annotated[str | None, typer.Option(help="Ollama host (default $OLLAMA_HOST or 127.0.0.1:11434)")] = None,
) -> None:
    """Create an Ollama model from a Modelfile (`ollama create`); ./paths in it are relative to its folder."""
    from harness.models.modelfile import load_modelfile
    from harness.models.ollama_backend import create_from_modelfile
    from harness.variants.export import absolute_paths

    parsed = absolute_paths(load_modelfile(modelfile), modelfile.resolve().parent)
    create_from_modelfile(name, parsed, host=host)
    typer.echo(f"created {name}")


@suites_app.command("list")
def suites_list(
    suites_dir: Annotated[Path | None, typer.Option(help="suites folder (default: the repository's suites/)")] = None,
) -> None:
    """Suites, versions, case counts per split, and whether each matches its pinned release."""
    from harness.releases import check_release
    from harness.suite import available_suites, available_versions, load_suite

    for name in available_suites(suites_dir):
        for version in available_versions(name, suites_dir):
            suite = load_suite(name, version, suites_dir)
            splits = {s: sum(1 for c in suite.cases if c.split == s) for s in ("train", "dev", "test")}
            release = check_release(suite, allow_draft=True)
            state = "CHANGED! " + "; ".join(release.changes) if release.state == "draft" else release.state
            typer.echo(f"{suite.key:22} {len(suite.cases):4} cases  {splits}  {suite.hash[:12]}  {state}")


@suites_app.command("import")
def suites_import(
    source: Annotated[Path, typer.Argument(help="CSV, JSON, JSONL, Parquet file or a datasets.save_to_disk folder")],
    suite: Annotated[str, typer.Option(help="NAME/VERSION to create, e.g. my-summaries/v1 (must be new)")],
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="CASE_FIELD=COLUMN, repeatable: input=Context, reference=Response, labels.risk_level=risk")]
    = None,
    task: Annotated[str, typer.Option(help="generic, therapy, summarization or discharge_qa (without --like)")]
    = "generic",
    like: Annotated[str | None, typer.Option(help="copy prompt and metrics (not gates) from this suite")] = None,
    split: Annotated[str, typer.Option(help="split for every case (train, dev, test)")] = "test",
    split_column: Annotated[str | None, typer.Option(help="column holding each case's split instead")] = None,
    source_split: Annotated[str | None, typer.Option(help="split of a saved DatasetDict (default: train)")] = None,
    suites_dir: Annotated[Path | None, typer.Option(help="folder of suites (default: the repository's suites/)")]
    = None,
) -> None:
    """Build a new suite version from your own data, with a column mapping; every row is validated first."""
    from harness.suite_import import import_suite, parse_mapping

    folder = import_suite(source, suite, mapping=parse_mapping(map_ or []), task=task, like=like, split=split,
                          split_column=split_column, source_split=source_split, suites_dir=suites_dir)
    typer.echo(f"wrote {folder} (suite.yaml + cases.jsonl); run it with `suites: [{suite}]` and "
               f"`suites_dir: {folder.parent.parent}` in an experiment")


@suites_app.command("release")
def suites_release(
    ref: Annotated[str, typer.Argument(help="name/version to pin as released, e.g. my-suite/v1")],
    suites_dir: Annotated[Path | None, typer.Option(help="suites folder (default: the repository's suites/)")] = None,
) -> None:
    """Pin a suite version: its content hash and per-case hashes go to released.json / released_cases.json."""
    from harness.releases import pin_release
    from harness.suite import load_suite, parse_suite_ref

    name, version = parse_suite_ref(ref)
    if version is None:
        raise HarnessError(f"{ref!r}: name the version to release, e.g. {ref}/v1")
    suite = load_suite(name, version, suites_dir)
    pin_release(suite, suites_dir)
    typer.echo(f"released {suite.key} ({suite.hash[:12]}, {len(suite.cases)} cases)")


def _read_password() -> str:
    """Asked twice on a terminal; otherwise the first line of stdin (for scripts: never an argument)."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise HarnessError("the two passwords differ; nothing was written")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@reviewers_app.command("add")
def reviewers_add(
    name: Annotated[str, typer.Argument(help="username (letters, digits, _ . @ -)")],
    file: Annotated[Path, typer.Option("--file", help="reviewers YAML file (created if missing)")],
    role: Annotated[str, typer.Option(help="reviewer, or admin (assigns cases, sees results, exports)")]
    = "reviewer",
) -> None:
    """Add or replace a reviewer; the password is prompted for (or read from stdin) and stored as a salted
    scrypt hash."""
    from harness.playground.reviewer_file import add_reviewer

    legacy = add_reviewer(file, name, _read_password(), role=role)
    typer.echo(f"{file}: {'admin' if role == 'admin' else 'reviewer'} {name!r} saved (salted scrypt hash)")
    if legacy:
        typer.echo(f"warning: still unsalted, re-create before use: {', '.join(legacy)}", err=True)
