"""Gradio playground for clinical reviewers (``harness playground``).

``playground.app.build_app`` builds the UI, ``playground.app.launch`` serves it; the logic
lives in ``playground.engine`` (generation, badges, saving) and ``harness.reviews`` (storage,
queue, agreement, export). Importing this package does not import Gradio.
"""
