"""A tiny GPT-2 built offline (no downloads): a byte-level BPE tokenizer trained on a few sentences
and a 2-layer, 32-wide GPT2LMHeadModel with random weights. Like GPT-2 and DialoGPT, it has no
chat template: the case the harness must handle without a raw transformers error."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "I have been feeling anxious before work and I cannot sleep well.",
    "That sounds really hard. What usually helps you wind down in the evening?",
    "User: Assistant: System: summary risk low moderate high session client therapist",
    "The patient should take the medicine with food and see the doctor next week.",
    "Thank you for sharing that with me. It makes sense that you feel tired.",
]


def build_tiny_gpt2(folder: Path, *, seed: int = 0) -> Path:
    """Write the model and tokenizer into ``folder`` (once) and return it."""
    if (folder / "config.json").exists():
        return folder
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS * 4, trainer)
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                  unk_token="<|endoftext|>")
    torch.manual_seed(seed)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=eos, eos_token_id=eos)
    folder.mkdir(parents=True, exist_ok=True)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

