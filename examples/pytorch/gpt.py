"""GPT, nanoGPT-style: token + position embeddings, pre-LN causal blocks, final LayerNorm, and the
output head tied to the token embedding (no bias) — flops-fit's ``models/gpt.ts`` layer for layer,
so its parameter and FLOP counts are the same for the same config."""
import torch
import torch.nn as nn

from family import ConfigError, derive_heads, js_round, resolve
from layers import INIT_STD, Block

FAMILY = {"name": "gpt-torch", "size_param": "d_model", "data_unit": "tokens", "modality": "text"}

DEFAULTS = {"context": 128, "mlp_ratio": 4, "tie_embeddings": True}
FIELDS = {"d_model", "depth", "heads", "context", "mlp_ratio", "vocab_size", "tie_embeddings"}


def size_rule(d_model):
    """flops-fit's gptSizeRule: heads of width 32 (at most 16), depth clamp(round(C/32), 2, 12)."""
    return {"d_model": d_model, "depth": min(12, max(2, js_round(d_model / 32))),
            "heads": derive_heads(d_model, 32, 16)}


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, t = c["d_model"], c["context"]
        self.config, self.context = c, t
        mlp = js_round(c["mlp_ratio"] * d)
        self.wte = nn.Embedding(c["vocab_size"], d)
        self.wpe = nn.Embedding(t, d)
        for table in (self.wte, self.wpe):
            nn.init.trunc_normal_(table.weight, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
        residual_std = INIT_STD / (2 * c["depth"]) ** 0.5
        self.blocks = nn.ModuleList(
            Block(d, c["heads"], mlp, causal=True, context=t, residual_std=residual_std)
            for _ in range(c["depth"]))
        self.ln_f = nn.LayerNorm(d)
        self.head = None
        if not c["tie_embeddings"]:
            self.head = nn.Linear(d, c["vocab_size"])
            nn.init.trunc_normal_(self.head.weight, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
            nn.init.zeros_(self.head.bias)
        self.register_buffer("positions", torch.arange(t), persistent=False)

    def forward(self, ids):                                 # (B, T) int64
        x = self.wte(ids) + self.wpe(self.positions[: ids.shape[1]])
        for block in self.blocks:
            x = block(x)
        h = self.ln_f(x)
        return h @ self.wte.weight.t() if self.head is None else self.head(h)  # (B, T, V)


def make_model(size, config, data):
    c = resolve(DEFAULTS, size_rule(size), config, FIELDS)
    c.setdefault("vocab_size", data.vocab_size)
    if c["vocab_size"] != data.vocab_size:
        raise ConfigError("vocab_size", f"The dataset's vocabulary has {data.vocab_size} tokens.")
    if c["d_model"] != size:
        raise ConfigError("size", f"size {size} contradicts config.d_model {c['d_model']}.")
    if size < 4:
        raise ConfigError("size", f"size (d_model) must be an integer ≥ 4, got {size}.")
    if not isinstance(c["context"], int) or c["context"] < 2:
        raise ConfigError("context", "context must be an integer ≥ 2.")
    if size % c["heads"] != 0:
        raise ConfigError("heads", f"d_model {size} is not divisible by heads {c['heads']}.")
    if c["mlp_ratio"] * size != js_round(c["mlp_ratio"] * size):
        raise ConfigError("mlp_ratio", "mlp_ratio × d_model must be an integer.")
    return GPT(c)
