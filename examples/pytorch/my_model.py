"""A model of your own, as a family module: copy this file, change ``make_model``, run
``worker.py --model my_model.py``. Here: Bengio et al.'s (2003) neural language model — each
position sees the embeddings of the previous ``window`` tokens, concatenated, through one hidden
layer — a family flops-fit's ``models/`` does not have. The worker counts its parameters and
FLOPs from the module; nothing here states a formula.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from family import ConfigError, resolve

FAMILY = {"name": "mlp-lm", "size_param": "hidden", "data_unit": "tokens", "modality": "text"}

# The sizes GET /v1/families lists (optional; default: flops-fit's candidate widths).
CANDIDATE_SIZES = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]

DEFAULTS = {"context": 128, "window": 8, "embed": 16}


class MlpLm(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.config, self.context, self.window = c, c["context"], c["window"]
        self.wte = nn.Embedding(vocab, c["embed"])
        self.fc = nn.Linear(c["window"] * c["embed"], c["hidden"])
        self.out = nn.Linear(c["hidden"], vocab)

    def forward(self, ids):                                  # (B, T) → (B, T, V)
        e = F.pad(self.wte(ids), (0, 0, self.window - 1, 0))   # (B, T+w-1, E), zeros before
        windows = e.unfold(1, self.window, 1)                  # (B, T, E, w)
        x = windows.transpose(2, 3).reshape(ids.shape[0], ids.shape[1], -1)
        return self.out(torch.tanh(self.fc(x)))


def make_model(size, config, data):
    c = resolve(DEFAULTS, {"hidden": size}, config, {"hidden", "context", "window", "embed"})
    if c["hidden"] != size:
        raise ConfigError("size", f"size {size} contradicts config.hidden {c['hidden']}.")
    return MlpLm(c, data.vocab_size)
