"""What a model family module gives the worker (the one file you replace).

A family module (``gpt.py``, ``vit.py``, or your own ``my_model.py``, loaded with
``worker.py --model my_model.py``) defines:

``FAMILY``
    ``{"name", "size_param", "data_unit", "modality"}``: the name ``POST /v1/train`` accepts as
    ``family``; the size parameter's name; what D counts (``tokens``, ``images`` or ``samples``);
    and which batches the model eats (``text``: int token ids ``(B, T)``, or ``image``: float
    images ``(B, H, W, C)``, flops-fit's layout).

``make_model(size, config, data) -> torch.nn.Module``
    Build the model for one size. ``config`` holds the fixed config fields of the sweep (its
    ``model``), ``data`` the dataset's metadata (``DataSpec``). ``forward(x)`` returns logits:
    ``(B, T, V)`` for text, ``(B, K)`` for images. A text model has a ``context`` attribute (T).
    Raise ``ConfigError(field, message)`` for a size or config field it cannot build; the worker
    answers 422 naming the field. Optionally the module has ``embedding_parameters()`` (the
    lookup tables Kaplan's N leaves out; default: every ``nn.Embedding``) and ``config`` (a dict
    of what it built, echoed in answers).

``CANDIDATE_SIZES`` (optional)
    The sizes ``GET /v1/families`` tries; default: flops-fit's candidate widths.

Everything else — exact parameter and FLOP counts, the training loop, data, HTTP — the worker
derives from the module itself.
"""


class ConfigError(ValueError):
    """A size or config field the family cannot build; ``field`` names it (``size``, ``heads``)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


class DataSpec:
    """The dataset's shapes, from a flops-fit server's ``GET /v1/datasets/{name}``."""

    def __init__(self, info=None):
        info = info or {}
        self.name = info.get("name")
        self.modality = info.get("modality")
        text = info.get("text") or {}
        image = info.get("image") or {}
        self.vocab_size = text.get("vocab_size", 256)
        self.image_size = image.get("height", 32)
        self.channels = image.get("channels", 3)
        self.num_classes = len(image.get("classes", [])) or 10
        self.splits = info.get("splits", {})


def candidate_sizes(max_size=2048):
    """flops-fit's candidate widths (``lib/plan/study.ts``): steps of 2 to 16, 4 to 32, 8 to 256,
    16 to 512, 32 to 2048."""
    out, s = [], 4
    while s <= max_size:
        out.append(s)
        s += 2 if s < 16 else 4 if s < 32 else 8 if s < 256 else 16 if s < 512 else 32
    return out


def js_round(x):
    """JavaScript's Math.round (half up), which flops-fit's size rules use; Python's round() is
    half-to-even."""
    import math
    return math.floor(x + 0.5)


def derive_heads(width, min_head_dim, max_heads):
    """The most heads (≤ max_heads, head width ≥ min_head_dim) that divide the width
    (``deriveHeads`` in flops-fit's ``models/layers.ts``)."""
    h = min(max_heads, width // min_head_dim)
    while h > 1:
        if width % h == 0:
            return h
        h -= 1
    return 1


def resolve(defaults, derived, config, allowed):
    """Merge defaults, the size rule and explicit config fields; refuse unknown fields."""
    for key in config:
        if key not in allowed:
            raise ConfigError(key, f"Unknown config field {key}.")
    merged = dict(defaults)
    merged.update(derived)
    merged.update(config)
    return merged
