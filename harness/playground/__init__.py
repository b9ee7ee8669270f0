"""Gradio playground for clinical reviewers (``harness playground``).

``harness.playground.app.build_app`` builds the UI, ``harness.playground.app.launch`` serves it; the logic
lives in ``harness.playground.engine`` (generation, badges, saving) and ``harness.reviews`` (storage,
queue, agreement, export). Importing this package does not import Gradio.
"""
