#!/usr/bin/env python3
"""Builds Veil's toy language models: two chat decoders and one sentence encoder, as standard Hugging Face ONNX
export folders (the layout Optimum writes and a TEE node loads), from the King James Bible text that Debian ships.

They are TOYS: a few million parameters trained for minutes on one public-domain book. They exist so that the real
loading, tokenizing, templating, KV-cache, sampling, streaming and pooling code has a real model to run on a
machine with no model hub. A real export (e.g. SmolLM2-135M-Instruct from `optimum-cli export onnx`) loads through
the same code from its own folder.

Outputs (committed; CI never runs Python):
  models/llm/toy-chat-kjv/       Llama architecture, 4 layers, hidden 256, 4 heads / 2 KV heads (grouped-query),
                                 tied embeddings, 4,096-token byte-level BPE, ChatML template
  models/llm/toy-chat-mqa-kjv/   a differently shaped decoder for loader tests: 3 layers, hidden 96, 8 heads / 1 KV
                                 head (multi-query), untied embeddings, 1,024-token BPE, Zephyr-style template
  models/llm/toy-embed-kjv/      BERT encoder, 2 layers, hidden 128, WordPiece 4,096, mean pooling + L2 norm
                                 (sentence-transformers layout), MLM then unsupervised SimCSE

Reproduce (Debian `bible-kjv` for the text; torch/transformers/tokenizers/onnx/onnxruntime from the local wheel
mirror `pip config list` names):
  apt-get install -y bible-kjv
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch transformers tokenizers onnx onnxruntime numpy
  /tmp/venv/bin/python models/llm/build_toy_llms.py --steps-chat 400 --steps-chat-mqa 60 --steps-embed 300  (what is committed)
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForMaskedLM, BertModel, DynamicCache, LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parent
SEED = 20261201
THREADS = int(os.environ.get("VEIL_BUILD_THREADS", "2"))

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
ZEPHYR_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
SYSTEM_PROMPT = "You are a toy model trained on the King James Bible. Continue the verse."


# ---------------------------------------------------------------------------------------------------- corpus

def read_verses() -> list[str]:
    """Every verse of the KJV as one line of text, in canonical order (Debian's `bible` prints them)."""
    text = subprocess.run(["bible", "-m", "8192", "Gen1:1-Rev22:21"], check=True, capture_output=True, text=True).stdout
    verses, current = [], []
    for line in text.splitlines():
        m = re.match(r"^\s+(\d+) (.*)$", line)
        if m:
            if current:
                verses.append(" ".join(current))
            current = [m.group(2).strip()]
        elif line.strip() and current and not re.match(r"^\S.* \d+$", line):
            current.append(line.strip())
        elif not line.strip() and current:
            continue
    if current:
        verses.append(" ".join(current))
    verses = [re.sub(r"\s+", " ", v).strip() for v in verses]
    if len(verses) < 30000:
        raise SystemExit(f"expected ~31k verses from `bible`, got {len(verses)}")
    return verses


def chat_example(verse: str, rng: random.Random, render) -> str:
    """One training conversation: the user gives a verse's opening words, the assistant continues it."""
    words = verse.split()
    cut = max(2, min(len(words) - 1, rng.randint(3, 8)))
    messages = []
    if rng.random() < 0.5:
        messages.append({"role": "system", "content": SYSTEM_PROMPT})
    messages.append({"role": "user", "content": " ".join(words[:cut])})
    messages.append({"role": "assistant", "content": " ".join(words[cut:])})
    return render(messages)


def render_chatml(messages) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def render_zephyr(messages) -> str:
    return "".join(f"<|{m['role']}|>\n{m['content']}</s>\n" for m in messages)


# ------------------------------------------------------------------------------------------------ tokenizers

def train_bpe(texts: list[str], vocab_size: int, special: list[str]) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def train_wordpiece(texts: list[str], vocab_size: int) -> Tokenizer:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


# ------------------------------------------------------------------------------------------------- training

def packed_batches(ids: list[int], seq: int, batch: int, rng: np.random.Generator):
    data = np.asarray(ids, dtype=np.int64)
    n = (len(data) - 1) // seq
    starts = np.arange(n) * seq
    while True:
        pick = rng.choice(starts, size=batch, replace=False)
        yield torch.from_numpy(np.stack([data[s:s + seq] for s in pick]))


def train_decoder(model: LlamaForCausalLM, ids: list[int], steps: int, seq: int, batch: int, lr: float) -> list[float]:
    rng = np.random.default_rng(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    model.train()
    losses = []
    gen = packed_batches(ids, seq, batch, rng)
    started = time.time()
    for step in range(steps):
        x = next(gen)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            print(f"  step {step:5d}  loss {loss.item():.3f}  {time.time() - started:6.0f} s", flush=True)
    model.eval()
    return losses


# --------------------------------------------------------------------------------------------------- export

class DecoderWithPast(torch.nn.Module):
    """Flat tensors in, flat tensors out, under the exact names Optimum uses for `text-generation-with-past`."""

    def __init__(self, model: LlamaForCausalLM):
        super().__init__()
        self.model = model
        self.layers = model.config.num_hidden_layers

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.layers)])
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, past_key_values=cache, use_cache=True)
        flat = []
        for layer in out.past_key_values.layers:
            flat += [layer.keys, layer.values]
        return (out.logits, *flat)


def export_decoder(model: LlamaForCausalLM, path: Path) -> None:
    cfg = model.config
    layers, kv_heads = cfg.num_hidden_layers, cfg.num_key_value_heads
    head_dim = cfg.head_dim
    batch, seq, past_len = 2, 3, 4
    input_ids = torch.randint(5, cfg.vocab_size, (batch, seq))
    attention_mask = torch.ones(batch, past_len + seq, dtype=torch.int64)
    # Trace with some padding: an all-ones mask lets transformers skip building the mask, and the trace would keep that.
    attention_mask[1, 0] = 0
    position_ids = torch.arange(past_len, past_len + seq).unsqueeze(0).expand(batch, -1).contiguous()
    past = [torch.randn(batch, kv_heads, past_len, head_dim) for _ in range(2 * layers)]
    past_names = [f"past_key_values.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    present_names = [f"present.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    dynamic = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in past_names:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        dynamic[name] = {0: "batch_size", 2: "total_sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            DecoderWithPast(model).eval(), (input_ids, attention_mask, position_ids, *past), str(path),
            input_names=["input_ids", "attention_mask", "position_ids", *past_names],
            output_names=["logits", *present_names], dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )
    model.eval()  # the exporter restores the wrapper's training flag on every child; parity must compare in eval mode
    onnx.checker.check_model(str(path))


class MeanPooledEncoder(torch.nn.Module):
    def __init__(self, model: BertModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def export_encoder(model: BertModel, path: Path) -> None:
    x = torch.randint(5, model.config.vocab_size, (2, 7))
    mask = torch.ones_like(x)
    mask[1, 5:] = 0  # padding in the trace, so the exported graph keeps the attention mask (see export_decoder)
    types = torch.zeros_like(x)
    axes = {0: "batch_size", 1: "sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            MeanPooledEncoder(model).eval(), (x, mask, types), str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17, dynamo=False,
        )
    model.eval()
    onnx.checker.check_model(str(path))


# --------------------------------------------------------------------------------------------------- parity

def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def empty_past(cfg, batch: int) -> dict:
    shape = (batch, cfg.num_key_value_heads, 0, cfg.head_dim)
    return {f"past_key_values.{i}.{k}": np.zeros(shape, dtype=np.float32) for i in range(cfg.num_hidden_layers) for k in ("key", "value")}


def check_decoder_parity(model: LlamaForCausalLM, path: Path, tok: Tokenizer, prompt: str) -> dict:
    cfg = model.config
    sess = ort_session(path)
    # 1. a left-padded batch of two with an empty past: logits of the real positions must match torch's.
    a, b = tok.encode(prompt).ids, tok.encode(prompt[: len(prompt) // 2]).ids
    width = max(len(a), len(b))
    pad = cfg.pad_token_id if cfg.pad_token_id is not None else 0
    ids = np.array([[pad] * (width - len(r)) + r for r in (a, b)], dtype=np.int64)
    mask = np.array([[0] * (width - len(r)) + [1] * len(r) for r in (a, b)], dtype=np.int64)
    pos = np.clip(np.cumsum(mask, axis=1) - 1, 0, None).astype(np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **empty_past(cfg, 2)}
    got = sess.run(None, feeds)
    with torch.no_grad():
        ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), position_ids=torch.from_numpy(pos), use_cache=True)
    real = mask.astype(bool)
    prefill_err = float(np.abs(got[0][real] - ref.logits.numpy()[real]).max())
    # 2. one decode step on the present of step 1.
    nxt = got[0][:, -1].argmax(-1).reshape(2, 1).astype(np.int64)
    mask2 = np.concatenate([mask, np.ones((2, 1), dtype=np.int64)], axis=1)
    pos2 = (pos[:, -1:] + 1).astype(np.int64)
    feeds2 = {"input_ids": nxt, "attention_mask": mask2, "position_ids": pos2}
    for i in range(cfg.num_hidden_layers):
        feeds2[f"past_key_values.{i}.key"] = got[1 + 2 * i]
        feeds2[f"past_key_values.{i}.value"] = got[2 + 2 * i]
    got2 = sess.run(None, feeds2)
    with torch.no_grad():
        ref2 = model(input_ids=torch.from_numpy(nxt), attention_mask=torch.from_numpy(mask2), position_ids=torch.from_numpy(pos2), past_key_values=ref.past_key_values, use_cache=True)
    decode_err = float(np.abs(got2[0] - ref2.logits.numpy()).max())
    # 3. greedy 20 tokens: transformers' generate against a plain onnxruntime loop.
    prompt_ids = torch.tensor([a])
    with torch.no_grad():
        hf = model.generate(prompt_ids, max_new_tokens=20, do_sample=False, pad_token_id=pad)[0, len(a):].tolist()
    loop, feeds3 = [], {"input_ids": np.array([a], dtype=np.int64), "attention_mask": np.ones((1, len(a)), dtype=np.int64), "position_ids": np.arange(len(a), dtype=np.int64)[None], **empty_past(cfg, 1)}
    for _ in range(20):
        out = sess.run(None, feeds3)
        t = int(out[0][0, -1].argmax())
        loop.append(t)
        total = feeds3["attention_mask"].shape[1] + 1
        feeds3 = {"input_ids": np.array([[t]], dtype=np.int64), "attention_mask": np.ones((1, total), dtype=np.int64), "position_ids": np.array([[total - 1]], dtype=np.int64)}
        for i in range(cfg.num_hidden_layers):
            feeds3[f"past_key_values.{i}.key"] = out[1 + 2 * i]
            feeds3[f"past_key_values.{i}.value"] = out[2 + 2 * i]
        if t in (cfg.eos_token_id if isinstance(cfg.eos_token_id, list) else [cfg.eos_token_id]):
            break
    if prefill_err > 1e-3 or decode_err > 1e-3:
        raise SystemExit(f"ONNX/torch parity failed: prefill {prefill_err}, decode {decode_err}")
    return {"prefillMaxAbsError": prefill_err, "decodeMaxAbsError": decode_err, "greedy20Identical": hf[: len(loop)] == loop,
            "greedyPromptIds": a, "greedyIds": loop, "greedyText": tok.decode(loop, skip_special_tokens=True)}


# -------------------------------------------------------------------------------------------------- writers

def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_chat(name: str, *, verses, layers, hidden, heads, kv_heads, inter, vocab, tied, specials, template, render,
               bos, eos, pad, steps, seq, batch, lr, description) -> None:
    out = ROOT / name
    print(f"[{name}] tokenizer", flush=True)
    rng = random.Random(SEED)
    conversations = [chat_example(v, rng, render) for v in verses]
    tok = train_bpe(conversations + verses, vocab, specials)
    eos_id, bos_id, pad_id = tok.token_to_id(eos), tok.token_to_id(bos), tok.token_to_id(pad)
    ids: list[int] = []
    for c in conversations:
        ids += tok.encode(c).ids + [eos_id]
    print(f"[{name}] {len(ids):,} training tokens", flush=True)

    torch.manual_seed(SEED)
    cfg = LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=hidden // heads, max_position_embeddings=512,
        tie_word_embeddings=tied, bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=pad_id, rms_norm_eps=1e-5,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(cfg)
    params = sum(p.numel() for p in model.parameters())
    print(f"[{name}] {params:,} parameters; training {steps} steps of {batch}x{seq}", flush=True)
    losses = train_decoder(model, ids, steps, seq, batch, lr)

    if out.exists():
        shutil.rmtree(out)
    (out / "onnx").mkdir(parents=True)
    model.config.save_pretrained(out)
    cfg_json = json.loads((out / "config.json").read_text())
    cfg_json["architectures"] = ["LlamaForCausalLM"]
    cfg_json.pop("attn_implementation", None)
    write_json(out / "config.json", cfg_json)
    write_json(out / "generation_config.json", {
        "bos_token_id": bos_id, "eos_token_id": eos_id, "pad_token_id": pad_id, "do_sample": True,
        "temperature": 0.7, "top_p": 0.9, "max_new_tokens": 64,
    })
    tok.save(str(out / "tokenizer.json"))
    write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": bos, "eos_token": eos, "pad_token": pad,
        "unk_token": None, "model_max_length": 512, "clean_up_tokenization_spaces": False, "add_bos_token": False,
        "chat_template": template,
    })
    write_json(out / "special_tokens_map.json", {"bos_token": bos, "eos_token": eos, "pad_token": pad})
    export_decoder(model, out / "onnx" / "model.onnx")
    prompt = render([{"role": "user", "content": "In the beginning God"}]) + ("<|im_start|>assistant\n" if "im_start" in template else "<|assistant|>\n")
    parity = check_decoder_parity(model, out / "onnx" / "model.onnx", tok, prompt)
    print(f"[{name}] parity {parity}", flush=True)
    write_provenance(out, name, description, {
        "architecture": "LlamaForCausalLM", "parameters": params, "layers": layers, "hidden": hidden, "heads": heads,
        "kvHeads": kv_heads, "vocab": tok.get_vocab_size(), "tiedEmbeddings": tied, "trainingSteps": steps,
        "trainingTokensSeen": steps * batch * seq, "finalLoss": round(float(np.mean(losses[-20:])), 4), "parity": parity,
    })


def build_embed(name: str, *, verses, steps_mlm, steps_cse, description) -> None:
    out = ROOT / name
    print(f"[{name}] tokenizer", flush=True)
    tok = train_wordpiece(verses, 4096)
    pad_id, mask_id = tok.token_to_id("[PAD]"), tok.token_to_id("[MASK]")
    torch.manual_seed(SEED)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=512, max_position_embeddings=256, pad_token_id=pad_id, attn_implementation="eager")
    mlm = BertForMaskedLM(cfg)
    rng = np.random.default_rng(SEED)

    def batch_of(texts):
        enc = tok.encode_batch(texts)
        width = min(64, max(len(e.ids) for e in enc))
        ids = np.full((len(texts), width), pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, e in enumerate(enc):
            row = e.ids[:width]
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        return torch.from_numpy(ids), torch.from_numpy(mask)

    opt = torch.optim.AdamW(mlm.parameters(), lr=1e-3, weight_decay=0.01)
    started = time.time()
    for step in range(steps_mlm):
        ids, mask = batch_of([verses[i] for i in rng.choice(len(verses), 32, replace=False)])
        labels = ids.clone()
        pick = (torch.rand(ids.shape) < 0.15) & mask.bool() & (ids > 4)
        labels[~pick] = -100
        inputs = ids.clone()
        inputs[pick] = mask_id
        loss = mlm(input_ids=inputs, attention_mask=mask, labels=labels).loss
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 100 == 0 or step == steps_mlm - 1:
            print(f"  mlm step {step:5d} loss {loss.item():.3f} {time.time() - started:5.0f} s", flush=True)

    # Unsupervised SimCSE: the same verse through two dropout masks is a positive pair, the rest of the batch negatives.
    encoder: BertModel = mlm.bert
    opt = torch.optim.AdamW(encoder.parameters(), lr=3e-4)
    encoder.train()
    for step in range(steps_cse):
        ids, mask = batch_of([verses[i] for i in rng.choice(len(verses), 32, replace=False)])
        def pooled():
            h = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1).clamp(min=1), dim=-1)
        a, b = pooled(), pooled()
        loss = torch.nn.functional.cross_entropy(a @ b.T / 0.05, torch.arange(len(a)))
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 100 == 0 or step == steps_cse - 1:
            print(f"  simcse step {step:5d} loss {loss.item():.3f} {time.time() - started:5.0f} s", flush=True)
    encoder.eval()

    if out.exists():
        shutil.rmtree(out)
    (out / "onnx").mkdir(parents=True)
    encoder.config.architectures = ["BertModel"]
    encoder.config.save_pretrained(out)
    cfg_json = json.loads((out / "config.json").read_text())
    cfg_json.pop("attn_implementation", None)
    write_json(out / "config.json", cfg_json)
    tok.save(str(out / "tokenizer.json"))
    write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "BertTokenizerFast", "do_lower_case": True, "cls_token": "[CLS]", "sep_token": "[SEP]",
        "pad_token": "[PAD]", "mask_token": "[MASK]", "unk_token": "[UNK]", "model_max_length": 256,
    })
    write_json(out / "special_tokens_map.json", {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]", "unk_token": "[UNK]"})
    write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    (out / "1_Pooling").mkdir()
    write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": 128, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
    })
    (out / "2_Normalize").mkdir()
    write_json(out / "sentence_bert_config.json", {"max_seq_length": 256, "do_lower_case": False})
    export_encoder(encoder, out / "onnx" / "model.onnx")

    sess = ort_session(out / "onnx" / "model.onnx")
    probe = ["In the beginning God created the heaven and the earth.", "And God said, Let there be light: and there was light.",
             "Jesus wept.", "The LORD is my shepherd; I shall not want."]
    ids, mask = batch_of(probe)
    got = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": np.zeros_like(ids.numpy())})[0]
    with torch.no_grad():
        ref = encoder(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
    real = mask.numpy().astype(bool)
    err = float(np.abs(got[real] - ref[real]).max())
    if err > 1e-3:
        raise SystemExit(f"encoder ONNX/torch parity failed: {err}")
    print(f"[{name}] parity max abs error {err:.2e}", flush=True)
    # What sentence-transformers would return for the probes (torch, mean pooling + L2 norm): the TypeScript loader is
    # tested against these numbers, so its tokenizer, padding, pooling and normalisation are checked end to end.
    m = mask.numpy()[..., None].astype(np.float32)
    pooled = (ref * m).sum(1) / m.sum(1)
    pooled = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    write_provenance(out, name, description, {
        "architecture": "BertModel (mean pooling + L2 normalisation)", "parameters": sum(p.numel() for p in encoder.parameters()),
        "layers": 2, "hidden": 128, "heads": 4, "vocab": tok.get_vocab_size(), "mlmSteps": steps_mlm, "simcseSteps": steps_cse,
        "parity": {"lastHiddenStateMaxAbsError": err},
        "probes": [{"text": t, "embeddingHead": [round(float(x), 6) for x in pooled[i, :8]]} for i, t in enumerate(probe)],
        "probeCosine": [[round(float(x), 6) for x in row] for row in (pooled @ pooled.T)],
    })


def write_provenance(out: Path, name: str, description: str, facts: dict) -> None:
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")
    facts = {**facts, "files": {str(p.relative_to(out)): {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in files}}
    write_json(out / "build-facts.json", facts)
    (out / "PROVENANCE.md").write_text(
        f"# {name} — a toy\n\n{description}\n\n"
        "- **Built by** `models/llm/build_toy_llms.py` (committed beside this folder); seed "
        f"{SEED}; torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}.\n"
        "- **Training text**: the King James Version of the Bible as Debian's `bible-kjv-text` package ships it "
        "(public domain). No other data, no pretrained weights.\n"
        "- **Licence**: the weights and tokenizer are released under the project's licence (Apache-2.0); the training "
        "text is in the public domain.\n"
        "- **Quality**: it is a toy of a few million parameters trained for minutes; its output imitates KJV phrasing "
        "and is not meaningful. It exists to exercise the real loading, tokenizing, templating, generation and pooling "
        "code. Serve a real export (same folder layout) for real use.\n"
        "- Facts and file hashes: `build-facts.json`.\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps-chat", type=int, default=1200)
    ap.add_argument("--steps-chat-mqa", type=int, default=150)
    ap.add_argument("--steps-embed", type=int, default=600)
    ap.add_argument("--only", choices=["toy-chat-kjv", "toy-chat-mqa-kjv", "toy-embed-kjv"])
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    random.seed(SEED); np.random.seed(SEED); torch.manual_seed(SEED)
    verses = read_verses()
    print(f"{len(verses):,} verses", flush=True)
    if args.only in (None, "toy-chat-kjv"):
        build_chat(
            "toy-chat-kjv", verses=verses, layers=4, hidden=256, heads=4, kv_heads=2, inter=512, vocab=4096, tied=True,
            specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"], template=CHATML_TEMPLATE, render=render_chatml,
            bos="<|endoftext|>", eos="<|im_end|>", pad="<|endoftext|>", steps=args.steps_chat, seq=128, batch=16, lr=3e-3,
            description="A Llama-architecture chat decoder (4 layers, hidden 256, grouped-query attention 4/2 heads, tied "
                        "embeddings) with a 4,096-token byte-level BPE tokenizer and a ChatML chat template, in the "
                        "Hugging Face / Optimum ONNX export layout with KV cache (`past_key_values.N.key|value` → "
                        "`present.N.key|value`). Veil's default chat model for development.",
        )
    if args.only in (None, "toy-chat-mqa-kjv"):
        build_chat(
            "toy-chat-mqa-kjv", verses=verses, layers=3, hidden=96, heads=8, kv_heads=1, inter=256, vocab=1024, tied=False,
            specials=["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"], template=ZEPHYR_TEMPLATE,
            render=render_zephyr, bos="<s>", eos="</s>", pad="<unk>", steps=args.steps_chat_mqa, seq=96, batch=16, lr=3e-3,
            description="A differently shaped Llama-architecture decoder (3 layers, hidden 96, multi-query attention 8/1 "
                        "heads of 12 dimensions, untied embeddings, 1,024-token BPE, Zephyr-style template) so the loader is tested on "
                        "more than one shape. Barely trained; for tests.",
        )
    if args.only in (None, "toy-embed-kjv"):
        build_embed(
            "toy-embed-kjv", verses=verses, steps_mlm=args.steps_embed, steps_cse=args.steps_embed // 2,
            description="A BERT-style sentence encoder (2 layers, hidden 128, WordPiece 4,096) trained by masked-LM and "
                        "then unsupervised SimCSE, in the sentence-transformers layout (mean pooling, L2 normalisation) "
                        "with an ONNX export whose output is `last_hidden_state`. Veil's default embedding model for "
                        "development.",
        )


if __name__ == "__main__":
    main()
