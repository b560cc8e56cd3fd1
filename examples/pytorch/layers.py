"""The transformer block both reference families share, nanoGPT-style: pre-LN, fused qkv,
full softmax attention (written out, so every matmul is visible to the FLOP counter), GELU MLP.
Initialisation as flops-fit's ``models/layers.ts``: trunc-normal(0.02) weights (residual
projections scaled when asked), zero biases, unit LayerNorm gains."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

INIT_STD = 0.02


def init_linear(linear, std=INIT_STD):
    nn.init.trunc_normal_(linear.weight, std=std, a=-2 * std, b=2 * std)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)


class Block(nn.Module):
    """x + proj(attn(LN(x))), then x + fc2(GELU(fc1(LN(x))))."""

    def __init__(self, width, heads, mlp_width, causal, context, residual_std=INIT_STD):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, mlp_width)
        self.fc2 = nn.Linear(mlp_width, width)
        for layer, std in ((self.qkv, INIT_STD), (self.proj, residual_std),
                           (self.fc1, INIT_STD), (self.fc2, residual_std)):
            init_linear(layer, std)
        if causal:
            mask = torch.triu(torch.full((context, context), float("-inf")), diagonal=1)
            self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        h = self.heads
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                       # (B, H, T, C/H)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // h))  # (B, H, T, T)
        if self.causal:
            att = att + self.mask[:t, :t]
        o = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(o)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
