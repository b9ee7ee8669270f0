"""``harness serve``: an OpenAI-compatible chat endpoint over the transformers backend.

Lets a team serve the embedded (or a fine-tuned) model to other machines' harness runs with
``backend: openai``, and gives the OpenAI backend a real server to be tested against. Binds to
127.0.0.1 unless told otherwise. It batches concurrent requests and enforces caps, but it is a
small server for one CPU or GPU box: a production deployment uses vLLM or llama.cpp's server.
"""

from harness.serve.app import create_app, serve
from harness.serve.limits import ServeLimits, load_limits

__all__ = ["ServeLimits", "create_app", "load_limits", "serve"]
