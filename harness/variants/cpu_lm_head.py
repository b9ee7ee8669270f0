"""TRL's fused LM head, made fast on CPU: labelled positions only, whole-vocabulary tiles, no fp32 re-casts.

TRL (1.16) trains SFT through a fused LM head (``trl.trainer.utils.add_fused_lm_head``) that never builds the
``[tokens, vocab]`` logits. Its kernel is written for GPUs; on a CPU it cost 40% of a LoRA step on the
embedded model (torch.profiler over ``bench/bench_lora_precision.py``'s config), for three reasons this module removes:

- without Triton it scores *every* position, padding and prompt included (a Neuron recompilation concern),
  where only the labelled ones (often a third) count;
- it folds the vocabulary in 32k-column tiles with several fp32 passes each;
- its backward casts each bf16 tile and weight slice to fp32 for the gradient product (``_addmm_fp32``),
  because CUDA-only ``out_dtype`` is unavailable on CPU, so the largest product of the step runs in fp32.

:class:`CompactLogProb` is the same function (log-probability of each target, and the entropy, top-1 and
other statistics TRL's metrics read) over whole-vocabulary tiles of a bounded number of tokens. The logits
are the same product in the same dtype (the autocast dtype, or the inputs'); softmax statistics are fp32;
the gradient product runs once per token tile in that dtype with fp32 accumulation inside the GEMM, as in
any autocast ``nn.Linear`` backward, so nothing is rounded per vocabulary slice. :func:`install` routes CPU
tensors to it and everything else to TRL's kernel; GPUs keep TRL's path untouched.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch

_LOG = logging.getLogger(__name__)
TILE_ELEMENTS = 1 << 25  # fp32 logits per token tile: 128 MiB (about 680 tokens of a 49k vocabulary)
_installed: dict[str, Any] = {}


def _tile_rows(vocab: int) -> int:
    return max(1, TILE_ELEMENTS // max(vocab, 1))


def _compute_dtype(hidden: torch.Tensor) -> torch.dtype:
    device = hidden.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else hidden.dtype


def _scaled_logits(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, dtype: torch.dtype,
                   scale: float) -> torch.Tensor:
    """fp32 ``(hidden @ weight.T + bias) * scale`` for one token tile, the product in ``dtype`` (``weight``
    already in it)."""
    logits = torch.mm(hidden.to(dtype), weight.t())
    if bias is not None:
        logits = logits.add_(bias.to(dtype))
    z = logits.float()
    return z.mul_(scale) if scale != 1.0 else z


class CompactLogProb(torch.autograd.Function):
    """``log_softmax(scale * hidden @ weight.T)[target]`` per row, plus optional statistics.

    Same arguments and outputs as TRL's ``ChunkedLogProbFunction`` (softcapping excluded: :func:`install`
    leaves softcapped models to TRL). ``scale`` is ``logit_scale / temperature``.
    """

    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weight: torch.Tensor,  # type: ignore[override]
                bias: torch.Tensor | None, targets: torch.Tensor, temperature: float, chunk_size: int,
                final_logit_softcapping: float | None = None, logit_scale: float = 1.0,
                outputs: tuple[str, ...] = ()) -> tuple[torch.Tensor | None, ...]:
        ctx.set_materialize_grads(False)
        dtype, scale, rows = _compute_dtype(hidden), logit_scale / temperature, _tile_rows(weight.shape[0])
        count = hidden.shape[0]
        log_z = hidden.new_empty(count, dtype=torch.float32)
        logprobs, entropy = torch.empty_like(log_z), torch.empty_like(log_z) if "entropy" in outputs else None
        sq = torch.empty_like(log_z) if "log_sum_sq_probs" in outputs else None
        mean = torch.empty_like(log_z) if "mean_logits" in outputs else None
        top1 = torch.empty(count, dtype=torch.bool, device=hidden.device) if "is_top1" in outputs else None
        cast = weight.to(dtype)
        for start in range(0, count, rows):
            span = slice(start, min(start + rows, count))
            z = _scaled_logits(hidden[span], cast, bias, dtype, scale)
            log_z[span] = torch.logsumexp(z, dim=-1)
            logprobs[span] = z.gather(1, targets[span, None]).squeeze(1) - log_z[span]
            if top1 is not None:  # argmax is the first maximum: a tie with an earlier token is not top-1
                top1[span] = z.argmax(dim=-1) == targets[span]
            if mean is not None:
                mean[span] = z.mean(dim=-1)
            if entropy is not None or sq is not None:
                probs = torch.softmax(z, dim=-1)
                if entropy is not None:
                    entropy[span] = log_z[span] - (probs * z).sum(dim=-1)
                if sq is not None:
                    sq[span] = probs.square_().sum(dim=-1).log_()
        ctx.save_for_backward(hidden, weight, bias, targets, log_z, log_z if entropy is None else entropy)
        ctx.dtype, ctx.scale, ctx.rows = dtype, scale, rows
        ctx.mark_non_differentiable(*(x for x in (sq, mean, top1) if x is not None))
        return logprobs, entropy, sq, mean, top1

    @staticmethod
    def backward(ctx: Any, grad_logprobs: torch.Tensor | None, grad_entropy: torch.Tensor | None,
                 *_: Any) -> tuple[torch.Tensor | None, ...]:
        hidden, weight, bias, targets, log_z, entropy = ctx.saved_tensors
        need_hidden, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_hidden = torch.zeros_like(hidden, dtype=torch.float32) if need_hidden else None
        grad_weight = torch.zeros_like(weight, dtype=torch.float32) if need_weight else None
        grad_bias = torch.zeros_like(bias, dtype=torch.float32) if need_bias else None
        cast = weight.to(ctx.dtype)
        for start in range(0, hidden.shape[0], ctx.rows):
            span = slice(start, min(start + ctx.rows, hidden.shape[0]))
            z = _scaled_logits(hidden[span], cast, bias, ctx.dtype, ctx.scale)
            grad_z = _logit_grad(z, targets[span], log_z[span], entropy[span], grad_logprobs, grad_entropy, span)
            grad_z = grad_z.mul_(ctx.scale) if ctx.scale != 1.0 else grad_z
            if grad_hidden is not None:  # one product per token tile, fp32 accumulation inside the GEMM
                grad_hidden[span] = torch.mm(grad_z.to(ctx.dtype), cast).float()
            if grad_weight is not None:
                grad_weight.addmm_(grad_z.t(), hidden[span].float())
            if grad_bias is not None:
                grad_bias += grad_z.sum(dim=0)
        return (None if grad_hidden is None else grad_hidden.to(hidden.dtype),
                None if grad_weight is None else grad_weight.to(weight.dtype),
                None if grad_bias is None else grad_bias.to(bias.dtype), None, None, None, None, None, None)


def _logit_grad(z: torch.Tensor, targets: torch.Tensor, log_z: torch.Tensor, entropy: torch.Tensor,
                grad_logprobs: torch.Tensor | None, grad_entropy: torch.Tensor | None, span: slice) -> torch.Tensor:
    """d(loss)/dz for one tile, in place over z: a log-probability gives onehot - p, the entropy H gives
    -p * (z - sum_k p_k z_k)."""
    probs = torch.softmax(z, dim=-1)
    if grad_entropy is not None:
        grad = z.sub_((log_z - entropy)[:, None]).mul_(probs).mul_(-grad_entropy[span, None].float())
        if grad_logprobs is not None:
            grad.sub_(probs.mul_(grad_logprobs[span, None].float()))
    elif grad_logprobs is not None:
        grad = probs.mul_(-grad_logprobs[span, None].float())
    else:
        return probs.zero_()
    if grad_logprobs is not None:
        grad.scatter_add_(1, targets[:, None], grad_logprobs[span, None].float())
    return grad


class _DeviceRoutedLogProb:
    """Stands in for TRL's ``ChunkedLogProbFunction``: CPU tensors to :class:`CompactLogProb`, else TRL's."""

    def __init__(self, trl_function: Any) -> None:
        self.trl_function = trl_function

    def apply(self, hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, targets: torch.Tensor,
              temperature: float, chunk_size: int, final_logit_softcapping: float | None = None,
              logit_scale: float = 1.0, outputs: tuple[str, ...] = ()) -> Any:
        function = self.trl_function
        if hidden.device.type == "cpu" and final_logit_softcapping is None:
            function = CompactLogProb
        return function.apply(hidden, weight, bias, targets, temperature, chunk_size, final_logit_softcapping,
                              logit_scale, outputs)


def install() -> bool:
    """Route TRL's fused LM head to :class:`CompactLogProb` on CPU; True when TRL's names were found.

    ``HARNESS_CPU_LM_HEAD=0`` keeps TRL's own head.

    Patches two private names of ``trl.trainer.utils`` (checked by ``tests/variants/test_cpu_lm_head.py``
    against the installed TRL): ``_use_triton``, which there only decides whether unlabelled positions are
    dropped before the head, and ``_ChunkedLogProbFunction``. A TRL without them keeps its own head.
    """
    if os.environ.get("HARNESS_CPU_LM_HEAD", "1") == "0":
        uninstall()  # escape hatch: TRL's own head, e.g. to compare against it
        return False
    if _installed:
        return True
    try:
        from trl.trainer import utils as trl_utils
    except ImportError:
        return False
    use_triton, function = getattr(trl_utils, "_use_triton", None), getattr(trl_utils, "_ChunkedLogProbFunction", None)
    if use_triton is None or function is None:
        import trl

        _LOG.info("TRL %s lacks the fused-head names this module patches; its own LM head runs on CPU",
                  getattr(trl, "__version__", "?"))
        return False
    _installed.update(use_triton=use_triton, function=function)
    trl_utils._use_triton = lambda device: device.type == "cpu" or use_triton(device)
    trl_utils._ChunkedLogProbFunction = _DeviceRoutedLogProb(function)
    return True


def uninstall() -> None:
    """Restore TRL's own head (benchmarks compare both in one process)."""
    if not _installed:
        return
    from trl.trainer import utils as trl_utils

    trl_utils._use_triton = _installed.pop("use_triton")
    trl_utils._ChunkedLogProbFunction = _installed.pop("function")
