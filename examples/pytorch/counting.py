"""Exact parameter and FLOP counts, read off the module itself.

Parameters: ``sum(p.numel())`` over ``model.parameters()`` (a tied head shares its table, so it is
counted once). Non-embedding (Kaplan's N): minus the lookup tables — every ``nn.Embedding``, or
what the module's ``embedding_parameters()`` returns.

FLOPs per sample, flops-fit's convention (``models/family.ts``, ``../shared/reference/``)::

    training FLOPs per sample = 3 × 2 × Σ_matmuls MACs(forward of one sample)

One multiply-add is 2 FLOPs, the backward pass costs twice the forward. The MACs are counted by
running one sample's forward under a ``TorchDispatchMode`` that sees every aten matmul the module
issues — projections, MLP, head, attention's QKᵀ and A·V over the full sequence (a causal mask is
an addition, not a discount) and convolutions — so a model you write is counted without a formula.
Element-wise work (norms, softmax, GELU, the optimiser) is not counted.
"""
import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def count_params(model):
    """(total, non_embedding) trainable parameters."""
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    if hasattr(model, "embedding_parameters"):
        tables = list(model.embedding_parameters())
    else:
        tables = [m.weight for m in model.modules() if isinstance(m, torch.nn.Embedding)]
    seen = {id(p) for p in params}
    embedding = sum(t.numel() for t in {id(t): t for t in tables if id(t) in seen}.values())
    return total, total - embedding


def _macs(func, args):
    """Multiply-adds of one aten call, 0 for anything that is not a matmul."""
    if func in (aten.mm.default, aten.addmm.default):
        a, b = (args[0], args[1]) if func is aten.mm.default else (args[1], args[2])
        return a.shape[0] * a.shape[1] * b.shape[1]
    if func in (aten.bmm.default, aten.baddbmm.default):
        a, b = (args[0], args[1]) if func is aten.bmm.default else (args[1], args[2])
        return a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    if func is aten.convolution.default:
        x, w = args[0], args[1]
        return w.shape[1] * w[0, 0].numel() * _conv_out_numel(x, w, args)
    return 0


def _conv_out_numel(x, w, args):
    stride, padding, dilation = args[3], args[4], args[5]
    out = [x.shape[0], w.shape[0]]
    for i, size in enumerate(x.shape[2:]):
        k = w.shape[2 + i]
        out.append((size + 2 * padding[i] - dilation[i] * (k - 1) - 1) // stride[i] + 1)
    n = 1
    for s in out:
        n *= s
    return n


class MacCounter(TorchDispatchMode):
    """Sums the multiply-adds of every matmul run inside it."""

    def __init__(self):
        super().__init__()
        self.macs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.macs += _macs(func, args)
        return func(*args, **(kwargs or {}))


def forward_macs(model, sample):
    """Multiply-adds of the forward pass on ``sample`` (a batch of one)."""
    with torch.no_grad(), MacCounter() as counter:
        model(sample)
    return counter.macs


def training_flops_per_sample(model, sample):
    """3 × 2 × forward MACs of one sample."""
    return 3 * 2 * forward_macs(model, sample)


class skip_init:
    """Within it, ``torch.nn.init`` fills nothing: models build in a fraction of the time, for
    counting only (the counts do not depend on the values)."""

    NAMES = ("trunc_normal_", "normal_", "uniform_", "kaiming_uniform_", "kaiming_normal_",
             "xavier_uniform_", "xavier_normal_", "zeros_", "ones_", "constant_")

    def __enter__(self):
        self.saved = {n: getattr(torch.nn.init, n) for n in self.NAMES}
        for n in self.NAMES:
            setattr(torch.nn.init, n, lambda tensor, *a, **k: tensor)
        return self

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(torch.nn.init, n, f)
        return False
