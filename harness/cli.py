"""``harness``: one entry point for running, training, reporting, gating and reviewing.

Heavy libraries are imported inside commands so that ``harness --help`` stays fast.
Every ``HarnessError`` becomes a clear message on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.cli_groups import StoreOption, _open_store, models_app, reviewers_app, suites_app
from harness.errors import HarnessError

app = typer.Typer(
    name="harness",
    help="Evaluation-first harness for clinical and mental-health LLMs: run experiments, train variants,"
    " write reports, review in the playground.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.add_typer(suites_app, name="suites")
app.add_typer(reviewers_app, name="reviewers")


def _print_version(value: bool) -> None:
    if value:
        from harness import __version__

        typer.echo(f"harness {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                help="print the version and exit")] = False) -> None:
    """Evaluation-first harness for clinical and mental-health LLMs."""

@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="configs/experiments/<name>.yaml")],
    store: StoreOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="at most N cases per suite (quick look; N > 0)")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="where reports go (default: config's report_dir)")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    allow_draft: Annotated[bool, typer.Option(
        help="run a released suite version whose files changed, as an unreleased draft (labelled DRAFT)")] = False,
) -> None:
    """Build candidates, generate (cached), score, store, and write reports/<run>/index.html."""
    from rich.console import Console

    from harness.runner import run_experiment
    from harness.summary import noop_adapter_warnings, print_summary, verdict_lines

    console = Console()
    try:
        with _open_store(store) as db:
            summary = run_experiment(config, store=db, report_root=report_dir, limit=limit, progress=progress,
                                     log=lambda msg: console.print(f"[dim]{msg}[/dim]"), allow_draft=allow_draft)
            warnings = noop_adapter_warnings(db, summary.run_id)
            verdict = verdict_lines(db, summary.run_id)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished batches are saved. To resume: harness run {config}"
                   f"{' --allow-draft' if allow_draft else ''}", err=True)
        raise typer.Exit(130) from None
    print_summary(console, summary, verdict)
    for line in warnings:
        console.print(f"[yellow]{line}[/yellow]")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="configs/training/<name>.yaml (LoRA/DPO, or embedding)")],
    store: StoreOption = None,
    base_model: Annotated[str | None, typer.Option(help="override the config's base model")] = None,
    cv: Annotated[int | None, typer.Option(
        help="embedding configs: leave-documents-out cross-validation with this many folds over the train+dev"
        " documents instead of a final fit (choose settings here, not on the test split)")] = None,
    cv_seed: Annotated[int, typer.Option(help="embedding configs: seed that deals documents into folds")] = 0,
    out: Annotated[Path | None, typer.Option(help="embedding configs: also write the result as JSON here")] = None,
) -> None:
    """Train (or resume, or reuse) a LoRA adapter pipeline or a retriever fine-tune, by the config's kind."""
    from harness.yamlio import load_yaml_config

    kind = load_yaml_config(config, "a training YAML file (configs/training/<name>.yaml)").data.get("kind")
    if kind == "embedding":
        _train_embedding(config, base_model=base_model, cv=cv, cv_seed=cv_seed, out=out)
        return
    if cv is not None or out is not None:
        raise HarnessError(
            f"{config}: --cv and --out apply to embedding configs (kind: embedding), not {kind or 'lora'!r}"
        )
    from harness.variants import train_from_config

    with _open_store(store) as db:
        trained = train_from_config(config, base_model=base_model, store=db)
    typer.echo(f"adapter: {trained.adapter_path}")
    typer.echo(f"fingerprint: {trained.fingerprint}{' (reused)' if trained.reused else ''}")


def _train_embedding(
    config_path: Path, *, base_model: str | None, cv: int | None, cv_seed: int, out: Path | None
) -> None:
    import json

    from harness.variants.embedding import evaluator_ndcg_at_10, load_embedding_config, train_embedding

    config = load_embedding_config(config_path)
    if base_model is not None:
        local = Path(base_model).expanduser()  # a CLI path is relative to the working directory
        config = config.model_copy(update={"base_model": str(local.resolve()) if local.exists() else base_model})
    suite = config.load_suite()
    if cv is not None:
        from harness.variants.embedding_cv import cross_validate

        result = cross_validate(config, suite, k=cv, seed=cv_seed, log=typer.echo)
        diff = result["difference"]["ndcg_at_10"]
        typer.echo(
            f"{result['n_questions']} held-out questions over {cv} folds, patient's own summary: nDCG@10 base "
            f"{result['base']['ndcg_at_10']:.3f} -> tuned {result['tuned']['ndcg_at_10']:.3f} "
            f"(diff {diff['mean']:+.3f}, 95% CI {diff['ci_low']:+.3f} to {diff['ci_high']:+.3f})"
        )
    else:
        trained = train_embedding(config, suite)
        result = {"model_path": str(trained.model_path), "fingerprint": trained.fingerprint,
                  "reused": trained.reused, **trained.metadata}
        typer.echo(f"model: {trained.model_path}")
        typer.echo(f"fingerprint: {trained.fingerprint}{' (reused)' if trained.reused else ''}")
        for when in ("before", "after"):
            ndcg = evaluator_ndcg_at_10(trained.metadata, when)
            if ndcg is not None:
                split = trained.metadata["evaluator"]["split"]
                typer.echo(f"{split} split, all documents, nDCG@10 {when}: {ndcg:.3f}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str))
        typer.echo(f"wrote {out}")


@app.command("index")
def index(
    paths: Annotated[list[Path], typer.Argument(help="discharge documents or folders (.txt, .md; .pdf with pypdf)")],
    embedding_model: Annotated[str, typer.Option(
        help="all-minilm-l6-v2 (embedded) or a sentence-transformers folder, e.g. a fine-tuned retriever")]
        = "all-minilm-l6-v2",
    index_dir: Annotated[Path | None, typer.Option(help="ChromaDB folder (default $HARNESS_HOME/rag)")] = None,
    collection: Annotated[str | None, typer.Option(
        help="a named knowledge base ($HARNESS_HOME/kb/NAME) for candidates (retriever: {collection: NAME})"
        " and `harness ask`")] = None,
    query: Annotated[str | None, typer.Option(help="then retrieve the passages for this question")] = None,
    document: Annotated[str | None, typer.Option(help="with --query: search only this document id")] = None,
    k: Annotated[int, typer.Option(help="with --query: how many passages")] = 3,
) -> None:
    """Index documents in the encoder's ChromaDB collection (unchanged chunks are not embedded again)."""
    from harness.rag.knowledge import collection_dir
    from harness.rag.retriever import Retriever, resolve_embedding_model

    if collection is not None and index_dir is not None:
        raise HarnessError("give --collection or --index-dir, not both")
    retriever = Retriever(resolve_embedding_model(embedding_model),
                          collection_dir(collection) if collection else index_dir)
    result = retriever.index_paths(paths)
    typer.echo(
        f"{result.documents} document(s), {result.chunks} chunks: {result.embedded} embedded, "
        f"{result.skipped} unchanged, {result.removed} stale removed (encoder {retriever.model_fingerprint[:12]})"
    )
    if query is not None:
        for rank, hit in enumerate(retriever.retrieve(query, k=k, document_id=document), start=1):
            text = " ".join(hit["text"].split())
            typer.echo(f"{rank}. [{hit['document_id']} / {hit['section']}] score {hit['score']:.3f}: {text[:300]}")


@app.command("ask")
def ask(
    question: Annotated[str, typer.Argument(help="your question")],
    collection: Annotated[str | None, typer.Option(help="knowledge base built with `harness index --collection`")]
    = None,
    docs: Annotated[list[Path] | None, typer.Option(help="documents or folders to index and ask (repeatable)")]
    = None,
    config: Annotated[Path | None, typer.Option(help="experiment YAML that defines --candidate")] = None,
    candidate: Annotated[str | None, typer.Option(help="candidate name in --config (default: embedded model)")]
    = None,
    embedding_model: Annotated[str, typer.Option(help="encoder the knowledge base was indexed with")]
    = "all-minilm-l6-v2",
    k: Annotated[int, typer.Option(help="how many passages")] = 3,
    store: StoreOption = None,
) -> None:
    """Ask your own documents a question with a chosen candidate; prints the answer and its sources."""
    from harness.candidate import Candidate, CandidateSpec
    from harness.rag.ask import ask as ask_documents
    from harness.rag.knowledge import knowledge_retriever, open_collection
    from harness.rag.retriever import resolve_embedding_model

    if (collection is None) == (not docs):
        raise HarnessError("give exactly one of --collection NAME or --docs PATH")
    if candidate and not config:
        raise HarnessError("--candidate needs --config (the experiment YAML that defines it)")
    model_path = resolve_embedding_model(embedding_model)
    if collection:
        retriever = open_collection(collection, model_path)
    else:
        spec = CandidateSpec(name="ask", retriever={"documents": [str(p) for p in docs or []]}).retriever
        retriever = knowledge_retriever(spec, model_path, None, Path.cwd())
    chosen = _ask_candidate(config, candidate, store) if config else Candidate(CandidateSpec(name="embedded"))
    answer = ask_documents(question, retriever, chosen, k=k)
    typer.echo(answer.text)
    typer.echo("\nsources:")
    for rank, hit in enumerate(answer.passages, start=1):
        text = " ".join(hit["text"].split())
        typer.echo(f"  {rank}. [{hit['document_id']} / {hit['section']}] score {hit['score']:.3f}: {text[:160]}")


def _ask_candidate(config: Path, name: str | None, store: Path | None) -> Any:
    from harness.config import load_experiment
    from harness.runner import build_candidates

    experiment = load_experiment(config)
    name = name or experiment.candidates[0].name
    chosen = [c for c in experiment.candidates if c.name == name]
    if not chosen:
        raise HarnessError(f"{config}: no candidate named {name!r} "
                           f"(candidates: {', '.join(c.name for c in experiment.candidates)})")
    with _open_store(store) as db:
        return build_candidates(experiment.model_copy(update={"candidates": chosen}), config.resolve().parent, db)[0]


@app.command("export")
def export(
    config: Annotated[Path, typer.Argument(help="experiment YAML that defines the candidate")],
    candidate: Annotated[str, typer.Option(help="candidate name (must have an adapter or train:)")],
    suite: Annotated[str, typer.Option(help="suite whose prompt the export carries, e.g. therapy/v1")],
    out: Annotated[Path, typer.Option(help="output folder (Modelfile + adapter)")],
    merged: Annotated[bool, typer.Option(help="export merged weights instead of an ADAPTER")] = False,
    store: StoreOption = None,
) -> None:
    """Export a trained candidate for Ollama: Modelfile (ADAPTER, TEMPLATE, stop, SYSTEM, params) + weights."""
    from harness.config import load_experiment
    from harness.errors import ConfigError
    from harness.runner import build_candidates
    from harness.suite import load_suite, parse_suite_ref
    from harness.variants import export_candidate

    experiment = load_experiment(config)
    experiment = experiment.model_copy(update={"candidates": [c for c in experiment.candidates if c.name == candidate]})
    if not experiment.candidates:
        raise ConfigError(f"{config}: no candidate named {candidate!r}")
    with _open_store(store) as db:
        built = build_candidates(experiment, config.resolve().parent, db)[0]
    result = export_candidate(built, load_suite(*parse_suite_ref(suite)), out, merged=merged)
    typer.echo(f"exported to {result.directory}")
    typer.echo(f"  Modelfile: {result.modelfile_path}")
    for path in sorted(p for p in result.directory.rglob("*") if p.is_file() and p != result.modelfile_path):
        typer.echo(f"  {path.relative_to(result.directory)}")
    typer.echo(f"then: ollama create <name> -f {result.modelfile_path}")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="run id, or 'latest'")] = "latest",
    store: StoreOption = None,
    out: Annotated[Path, typer.Option(help="report folder")] = Path("reports"),
) -> None:
    """Re-render a run's HTML report from the store."""
    from harness.report import render_run_report

    with _open_store(store) as db:
        if run_id == "latest":
            found = db.latest_run()
            if found is None:
                raise HarnessError("the store has no finished run yet",
                                   hint="harness run configs/experiments/demo.yaml")
            run_id = found
        if db.get_run(run_id) is None:
            raise HarnessError(f"no run {run_id!r} in {db.path}")
        typer.echo(render_run_report(db, run_id, out))


@app.command("train-metric")
def train_metric(
    name: Annotated[str, typer.Argument(
        help="metric model to train: risk (vignettes + SDCNL), empathy (EPITOME CSVs) or mi (AnnoMI CSVs)")],
    data: Annotated[Path | None, typer.Option(help="folder with the labelled CSVs (default: shared data folder)")]
    = None,
    encoder: Annotated[str, typer.Option(help="lexical (default, fast), minilm, or minilm_pair (mi only)")]
    = "lexical",
    out_dir: Annotated[Path | None, typer.Option(help="write weights here (default: the shipped weights folder)")]
    = None,
) -> None:
    """Train a metric's classifiers from labelled files; records data hashes, settings and CV figures."""
    from harness.metrics.trainers import train_metric as run_training

    run_training(name, data, encoder, out_dir, log=typer.echo)


@app.command(
    "validate-metrics",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def validate_metrics(ctx: typer.Context) -> None:
    """Measure how well the metrics agree with expert labels (AnnoMI, EPITOME, WeLiVita, MTS-Dialog) or yours.

    Your files: --file [KIND=]PATH (JSONL, EPITOME- or AnnoMI-format CSV), scored with the shipped models,
    per-item predictions beside --out. Other options (--data, --out, --update-docs, --encoder, --section,
    --predictions): see `harness validate-metrics --help`.
    """
    from harness.validation import main as validate_main

    raise typer.Exit(validate_main(ctx.args))


@app.command()
def playground(
    host: Annotated[str, typer.Option(help="bind address (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 7860,
    store: StoreOption = None,
    candidates_config: Annotated[Path | None, typer.Option(help="experiment YAML whose candidates can be compared")]
    = None,
    auth_file: Annotated[Path | None, typer.Option(help="reviewer accounts file (or $HARNESS_REVIEWERS)")] = None,
) -> None:
    """Start the Gradio playground for clinical reviewers (side by side, blind review)."""
    from harness.playground.app import launch

    launch(host=host, port=port, store_path=store, candidates_config=candidates_config, auth_file=auth_file)


@app.command()
def serve(
    model: Annotated[str, typer.Option(help="model to serve")] = "smollm2-135m-instruct",
    adapter: Annotated[str | None, typer.Option(help="LoRA adapter directory")] = None,
    host: Annotated[str, typer.Option(help="bind address (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8088,
    config: Annotated[Path | None, typer.Option(help="YAML file of limits (see harness/serve/limits.py)")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="cap on a request's max_tokens (default 512)")] = None,
    max_prompt_chars: Annotated[int | None, typer.Option(help="cap on prompt characters (default 16000)")] = None,
    max_prompt_tokens: Annotated[int | None, typer.Option(help="cap on prompt tokens (default 2048)")] = None,
    max_batch: Annotated[int | None, typer.Option(help="requests per generate call (default 16)")] = None,
    max_queue: Annotated[int | None, typer.Option(help="waiting requests before 503 (default 64)")] = None,
    request_timeout: Annotated[float | None, typer.Option(help="seconds per request (default 120)")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for generation (default: torch's)")] = None,
) -> None:
    """Serve a local model as an OpenAI-compatible endpoint (/v1/chat/completions), batched and capped.

    For production traffic use vLLM or llama.cpp's server; this one is for a team's own box and tests.
    """
    from harness.serve import load_limits
    from harness.serve import serve as run_server

    limits = load_limits(config, max_tokens=max_tokens, max_prompt_chars=max_prompt_chars,
                         max_prompt_tokens=max_prompt_tokens, max_batch=max_batch, max_queue=max_queue,
                         request_timeout_s=request_timeout, torch_threads=threads)
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: binding {host}: the endpoint has no authentication", err=True)
    typer.echo(f"serving {model} at http://{host}:{port}/v1 (max_tokens <= {limits.max_tokens}, "
               f"prompt <= {limits.max_prompt_tokens} tokens, batches of <= {limits.max_batch})")
    run_server(model, adapter, host, port, limits)


def main() -> None:
    try:
        app()
    except HarnessError as exc:
        typer.echo(f"error: {exc.render()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished batches are saved; run the same command again to resume.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
