"""Run by tests/test_no_network.py in a fresh interpreter: trace every DNS lookup and socket connect
to a non-loopback address while the harness runs a small experiment and builds a TRL trainer.

Usage: python trace_network.py OUT.json [--run EXPERIMENT.yaml STORE] [--trainer]
Lookups and connects to anything but loopback are recorded and refused (nothing leaves the machine).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time

SEEN: list[str] = []
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_loopback(host: object) -> bool:
    if host is None or isinstance(host, bytes | bytearray):
        host = (host or b"").decode() if isinstance(host, bytes | bytearray) else ""
    text = str(host)
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if not _is_loopback(host):
        SEEN.append(f"lookup {host}")
        raise socket.gaierror(socket.EAI_NONAME, "blocked by trace_network.py")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check(sock: socket.socket, address: object) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _is_loopback(address[0]):
        SEEN.append(f"connect {address[0]}:{address[1]}")
        raise OSError("blocked by trace_network.py")


def _connect(self, address):  # type: ignore[no-untyped-def]
    _check(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):  # type: ignore[no-untyped-def]
    _check(self, address)
    return _real_connect_ex(self, address)


socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]
socket.socket.connect = _connect  # type: ignore[method-assign]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]


def _build_trainer(work: str) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from harness.models.embedded import prepare_embedded_llm

    path = str(prepare_embedded_llm())
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    args = SFTConfig(output_dir=work, max_steps=1, report_to="none", use_cpu=True, save_strategy="no")
    SFTTrainer(model=model, args=args, train_dataset=Dataset.from_dict({"text": ["hello there"] * 2}),
               processing_class=tokenizer)


def main(argv: list[str]) -> None:
    out = argv[1]
    import harness  # noqa: F401  -- what every entry point does first

    if "--run" in argv:
        from harness.runner import run_experiment
        from harness.store import Store

        index = argv.index("--run")
        with Store(argv[index + 2]) as store:
            run_experiment(argv[index + 1], store=store, progress=False, write_report=False, log=lambda _m: None)
    if "--trainer" in argv:
        import tempfile

        with tempfile.TemporaryDirectory() as work:
            _build_trainer(work)
    time.sleep(1.0)  # telemetry is sent from a background thread
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.daemon:
            thread.join(timeout=2.0)
    with open(out, "w") as handle:
        json.dump(SEEN, handle)


if __name__ == "__main__":
    main(sys.argv)
