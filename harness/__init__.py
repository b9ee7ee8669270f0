"""Evaluation-first experimentation harness for clinical and mental-health LLMs.

Data flows one way: configs -> candidates -> outputs -> scores -> store -> views.
Heavy libraries (torch, transformers, chromadb, gradio) are imported lazily inside the
functions that need them, so that ``harness --help`` and the light tests start fast.
"""

__version__ = "0.1.0"
