"""The CPU LM head computes what TRL's fused head computes, and the installed TRL takes it.

TRL's own kernel is the reference: same inputs, both functions, outputs and gradients compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
trl_kernels = pytest.importorskip("trl.kernels.chunked_logprob")

from harness.variants import cpu_lm_head  # noqa: E402
from harness.variants.cpu_lm_head import CompactLogProb  # noqa: E402

ALL_OUTPUTS = ("entropy", "log_sum_sq_probs", "mean_logits", "is_top1")


def _both(*, rows: int = 37, hidden: int = 16, vocab: int = 300, bias: bool = True, temperature: float = 0.7,
          logit_scale: float = 1.5, entropy_weight: float = 0.3, autocast: bool = False, seed: int = 0) -> dict:
    """Outputs and gradients of TRL's kernel and ours on the same random problem."""
    generator = torch.Generator().manual_seed(seed)
    h0 = torch.randn(rows, hidden, generator=generator)
    w0 = torch.randn(vocab, hidden, generator=generator) * 0.3
    b0 = torch.randn(vocab, generator=generator) * 0.1 if bias else None
    targets = torch.randint(0, vocab, (rows,), generator=generator)
    logits = h0 @ w0.t() + (0 if b0 is None else b0)
    targets[::2] = logits[::2].argmax(dim=-1)  # half the rows predicted right: top-1 is exercised both ways
    results = {}
    for name, function in (("trl", trl_kernels.ChunkedLogProbFunction), ("ours", CompactLogProb)):
        h, w = h0.clone().requires_grad_(True), w0.clone().requires_grad_(True)
        b = None if b0 is None else b0.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            logprobs, entropy, sq, mean, top1 = function.apply(h, w, b, targets, temperature, 128, None,
                                                               logit_scale, ALL_OUTPUTS)
        (-logprobs.sum() + entropy_weight * entropy.sum()).backward()
        results[name] = {"logprobs": logprobs.detach(), "entropy": entropy.detach(), "sq": sq, "mean": mean,
                         "top1": top1, "grad_hidden": h.grad, "grad_weight": w.grad,
                         "grad_bias": None if b is None else b.grad}
    return results


def test_float32_outputs_and_gradients_equal_trls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_lm_head, "TILE_ELEMENTS", 3000)  # 10 rows per tile: several token tiles
    got = _both()
    for key in ("logprobs", "entropy", "sq", "mean", "grad_hidden", "grad_weight", "grad_bias"):
        torch.testing.assert_close(got["ours"][key], got["trl"][key], rtol=1e-4, atol=1e-5, msg=key)
    assert torch.equal(got["ours"]["top1"], got["trl"]["top1"])
    assert got["trl"]["top1"].any()  # the comparison is not between two all-False tensors


def test_bf16_autocast_stays_within_bf16_rounding_of_trls() -> None:
    got = _both(rows=64, hidden=64, vocab=2048, bias=False, temperature=1.0, logit_scale=1.0, autocast=True)
    torch.testing.assert_close(got["ours"]["logprobs"], got["trl"]["logprobs"], rtol=1e-3, atol=1e-3)
    grad, reference = got["ours"]["grad_hidden"], got["trl"]["grad_hidden"]
    assert grad.dtype == reference.dtype
    assert float((grad - reference).abs().max() / reference.abs().max()) < 1e-2  # one bf16 rounding (2^-8)


def test_a_gradient_through_the_log_probabilities_alone() -> None:
    got = _both(entropy_weight=0.0)
    torch.testing.assert_close(got["ours"]["grad_hidden"], got["trl"]["grad_hidden"], rtol=1e-4, atol=1e-5)


@pytest.fixture
def installed() -> Iterator[object]:
    """The patch in place for the test, then TRL's own names back (and the patch again if a training
    earlier in the session had installed it)."""
    from trl.trainer import utils as trl_utils

    was_installed = bool(cpu_lm_head._installed)
    assert cpu_lm_head.install(), "the installed TRL lost the names harness.variants.cpu_lm_head patches"
    yield trl_utils
    cpu_lm_head.uninstall()
    assert trl_utils._ChunkedLogProbFunction is trl_kernels.ChunkedLogProbFunction
    assert not trl_utils._use_triton(torch.device("cpu"))
    if was_installed:
        cpu_lm_head.install()


def test_install_routes_cpu_to_the_compact_head_and_keeps_softcapping_on_trls(installed: object) -> None:
    trl_utils = installed
    assert trl_utils._use_triton(torch.device("cpu"))  # labelled positions only, on CPU too
    h, w, targets = torch.randn(5, 8), torch.randn(40, 8), torch.randint(0, 40, (5,))
    routed = trl_utils._ChunkedLogProbFunction.apply(h, w, None, targets, 1.0, 16, None, 1.0, ())
    direct = CompactLogProb.apply(h, w, None, targets, 1.0, 16, None, 1.0, ())
    assert torch.equal(routed[0], direct[0])
    capped = trl_utils._ChunkedLogProbFunction.apply(h, w, None, targets, 1.0, 16, 5.0, 1.0, ())
    reference = trl_kernels.ChunkedLogProbFunction.apply(h, w, None, targets, 1.0, 16, 5.0, 1.0, ())
    assert torch.equal(capped[0], reference[0])


def test_the_escape_hatch_keeps_trls_head(installed: object, monkeypatch: pytest.MonkeyPatch) -> None:
    trl_utils = installed
    monkeypatch.setenv("HARNESS_CPU_LM_HEAD", "0")
    assert not cpu_lm_head.install()  # even after an earlier install in this process
    assert trl_utils._ChunkedLogProbFunction is trl_kernels.ChunkedLogProbFunction
    monkeypatch.delenv("HARNESS_CPU_LM_HEAD")
    assert cpu_lm_head.install()


def test_the_embedded_models_fused_loss_equals_its_plain_loss(installed: object, prepared_llm_dir: Path) -> None:
    """End to end through TRL's patched forward: prompt positions masked with -100 and padding dropped
    before the head, the loss equal to transformers' own cross-entropy over the full logits."""
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    model = AutoModelForCausalLM.from_pretrained(prepared_llm_dir, dtype=torch.float32)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, model.config.vocab_size, (2, 24), generator=generator)
    attention = torch.ones_like(ids)
    attention[1, :6] = 0  # left padding on the second row
    labels = ids.clone()
    labels[:, :10] = -100  # a prompt: no loss there
    labels[attention == 0] = -100
    with torch.no_grad():
        plain = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
        fused = model(input_ids=ids, attention_mask=attention, labels=labels, fused_lm_head=True)
    torch.testing.assert_close(fused.loss, plain, rtol=1e-5, atol=1e-5)
    assert int(fused.label_mask.sum()) == int((labels[:, 1:] != -100).sum())
