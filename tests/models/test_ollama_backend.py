"""Ollama backend: real client code. Tests that need a server skip when none is reachable."""

import socket
from pathlib import Path

import pytest

from harness.errors import BackendUnavailableError
from harness.models.base import ChatRequest, GenerationParams
from harness.models.modelfile import load_modelfile
from harness.models.ollama_backend import OllamaBackend, create_from_modelfile, is_reachable, params_to_options

REPO = Path(__file__).resolve().parents[2]
needs_server = pytest.mark.skipif(not is_reachable(), reason="no Ollama server reachable at $OLLAMA_HOST")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_names_the_host() -> None:
    host = f"http://127.0.0.1:{_closed_port()}"
    backend = OllamaBackend("smollm2:135m", host=host)
    request = ChatRequest([{"role": "user", "content": "hi"}], GenerationParams(max_new_tokens=4))
    with pytest.raises(BackendUnavailableError, match=f"Ollama server at {host} is unreachable"):
        backend.generate([request])
    with pytest.raises(BackendUnavailableError, match="ollama serve"):
        try:
            backend.list_models()
        except BackendUnavailableError as exc:
            raise BackendUnavailableError(exc.render()) from None


def test_params_map_to_ollama_options() -> None:
    params = GenerationParams(temperature=0.2, top_k=40, max_new_tokens=50, repetition_penalty=1.1, stop=("</s>",))
    options = params_to_options(params)
    assert options == {"temperature": 0.2, "top_p": 1.0, "num_predict": 50, "repeat_penalty": 1.1, "seed": 0,
                       "top_k": 40, "stop": ["</s>"]}


@pytest.mark.ollama
@needs_server
def test_create_from_modelfile_and_chat() -> None:
    modelfile = load_modelfile(REPO / "configs/modelfiles/therapy-companion.Modelfile")
    create_from_modelfile("harness-test-companion", modelfile)
    backend = OllamaBackend("harness-test-companion", keep_model_system=True)
    assert any(name.startswith("harness-test-companion") for name in backend.list_models())
    request = ChatRequest([{"role": "user", "content": "I feel low today."}], GenerationParams(max_new_tokens=20))
    assert backend.generate([request])[0].text
