"""Vision Transformer for small images: patch embedding (a linear map of each flattened patch),
CLS token, learned position embeddings, pre-LN blocks, final LayerNorm and a linear head on the
CLS token — flops-fit's ``models/vit.ts`` layer for layer (and ``../shared/reference/vit_torch.py``),
so its parameter and FLOP counts are the same for the same config."""
import torch
import torch.nn as nn

from family import ConfigError, derive_heads, js_round, resolve
from layers import INIT_STD, Block, init_linear

FAMILY = {"name": "vit-torch", "size_param": "embed_dim", "data_unit": "images",
          "modality": "image"}

DEFAULTS = {"patch_size": 4, "mlp_ratio": 4, "pos_embedding": "learned"}
FIELDS = {"embed_dim", "depth", "heads", "patch_size", "mlp_ratio", "image_size", "channels",
          "num_classes", "pos_embedding"}


def size_rule(embed_dim):
    """flops-fit's vitSizeRule: heads of width 16 (at most 16), depth clamp(round(C/32)+2, 2, 12)."""
    return {"embed_dim": embed_dim, "depth": min(12, max(2, js_round(embed_dim / 32) + 2)),
            "heads": derive_heads(embed_dim, 16, 16)}


class ViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["embed_dim"], c["patch_size"]
        self.config, self.p = c, p
        self.side = c["image_size"] // p
        tokens = self.side ** 2 + 1
        self.patch = nn.Linear(p * p * c["channels"], d)
        init_linear(self.patch)
        self.cls = nn.Parameter(torch.empty(1, 1, d))
        self.pos = nn.Parameter(torch.empty(1, tokens, d))
        for table in (self.cls, self.pos):
            nn.init.trunc_normal_(table, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD)
        mlp = js_round(c["mlp_ratio"] * d)
        self.blocks = nn.ModuleList(
            Block(d, c["heads"], mlp, causal=False, context=tokens) for _ in range(c["depth"]))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, c["num_classes"])
        init_linear(self.head)

    def embedding_parameters(self):
        return [self.cls, self.pos]

    def forward(self, images):                              # (B, H, W, C) float
        b, p, s = images.shape[0], self.p, self.side
        ch = images.shape[3]
        # (B, H, W, C) → (B, s, p, s, p, C) → (B, s, s, p, p, C) → (B, N, p·p·C), flops-fit's order
        patches = images.reshape(b, s, p, s, p, ch).permute(0, 1, 3, 2, 4, 5).reshape(b, s * s, -1)
        x = torch.cat([self.cls.expand(b, -1, -1), self.patch(patches)], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x[:, 0]))                # (B, K): the CLS token only


def make_model(size, config, data):
    c = resolve(DEFAULTS, size_rule(size), config, FIELDS)
    c.setdefault("image_size", data.image_size)
    c.setdefault("channels", data.channels)
    c.setdefault("num_classes", data.num_classes)
    if c["embed_dim"] != size:
        raise ConfigError("size", f"size {size} contradicts config.embed_dim {c['embed_dim']}.")
    if size < 4:
        raise ConfigError("size", f"size (embed_dim) must be an integer ≥ 4, got {size}.")
    if c["pos_embedding"] != "learned":
        raise ConfigError("pos_embedding", "This example implements learned position embeddings.")
    if size % c["heads"] != 0:
        raise ConfigError("heads", f"embed_dim {size} is not divisible by heads {c['heads']}.")
    if c["mlp_ratio"] * size != js_round(c["mlp_ratio"] * size):
        raise ConfigError("mlp_ratio", "mlp_ratio × embed_dim must be an integer.")
    if c["image_size"] % c["patch_size"] != 0:
        raise ConfigError("patch_size", f"image_size {c['image_size']} is not divisible by "
                          f"patch_size {c['patch_size']}.")
    return ViT(c)
