"""SetT and IAFormer run their per-object layers on the packed real objects: same outputs as the padded computation.

Each encoder is compared with a plain padded reference written out here from the same submodules (every layer
applied to all (B, P, ·) slots, padding hidden by the attention bias only), on events whose real objects sit in
random slots, with 0, 1 and up to P real objects. Tolerances: packing changes only the row count of the matrix
products, i.e. the float rounding; float32 outputs must agree to 1e-5 relative, float64 to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from estimators.encoders import build_encoder
from estimators.encoders.base import ObjectEncoder
from estimators.encoders.iaformer import IAFormer
from estimators.encoders.sett import SetTransformer
from estimators.layers import padding_bias

N_GLOBALS = 2
SLOTS = 7

SETT = {
    "plain": dict(pair="none", interaction="none"),
    "pair": dict(pair="ln_kt,ln_z,ln_delta,ln_m2", interaction="none"),
    "pair+sm": dict(pair="mass,delta_r", interaction="sm_running"),
    "sm": dict(pair="none", interaction="sm_const"),
}
IAFORMER = {
    "pair": dict(pair="ln_kt,ln_z,ln_delta,ln_m2", interaction="none"),
    "pair+sm": dict(pair="mass,delta_r", interaction="sm_running"),
    "sm": dict(pair="none", interaction="sm_ids"),
}
CASES = [("sett", k) for k in SETT] + [("iaformer", k) for k in IAFORMER]
TOLERANCE = {torch.float32: dict(rtol=1e-5, atol=1e-6), torch.float64: dict(rtol=1e-12, atol=1e-12)}


def make_events(n_events: int = 12, n_slots: int = SLOTS, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Events with 0, 1, n_slots and random numbers of real objects, scattered over random slots."""
    g = torch.Generator().manual_seed(seed)
    pt = torch.exp(torch.empty(n_events, n_slots).uniform_(np.log(10.0), np.log(300.0), generator=g))
    eta = torch.empty(n_events, n_slots).uniform_(-3, 3, generator=g)
    phi = torch.empty(n_events, n_slots).uniform_(-np.pi, np.pi, generator=g)
    massive = torch.rand(n_events, n_slots, generator=g) < 0.5
    mass = torch.empty(n_events, n_slots).uniform_(0, 20, generator=g) * massive
    px, py, pz = pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)
    momenta = torch.stack([torch.sqrt(mass**2 + px**2 + py**2 + pz**2), px, py, pz], dim=-1)
    types = torch.randint(1, 8, (n_events, n_slots), generator=g)
    n_real = torch.randint(0, n_slots + 1, (n_events,), generator=g)
    n_real[:3] = torch.tensor([0, 1, n_slots])
    rank = torch.rand(n_events, n_slots, generator=g).argsort(1).argsort(1)  # a random slot order per event
    types[rank >= n_real[:, None]] = 0
    momenta[types == 0] = 0.0
    globals_ = torch.randn(n_events, N_GLOBALS, generator=g) * 20 + 30
    return momenta, types, globals_


def make_encoder(name: str, variant: str, dtype: torch.dtype = torch.float32) -> ObjectEncoder:
    options = (SETT if name == "sett" else IAFORMER)[variant]
    torch.manual_seed(0)
    enc = build_encoder(name, n_objects=SLOTS, n_globals=N_GLOBALS, dim=16, num_heads=2, num_layers=2,
                        pair_embed_dims=(8,), **options)
    enc.fit_input_scaling(*make_events(64, seed=99))
    return enc.to(dtype).eval()


def sett_reference(enc: SetTransformer, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
    """SetT on the padded (B, P, D) slots: every layer sees every slot, (B, D)."""
    inp = enc._inputs(momenta, types, globals_)
    x = enc.embed(inp.x)
    bias = padding_bias(inp.mask)
    if enc.pair_embed is not None:
        bias = enc.pair_embed(inp.pairs, inp.mask) + bias
    for sab in enc.sabs:
        h = sab.norm1(x + sab.attn(x, bias))
        x = sab.norm2(h + sab.rff(h))
    b = x.shape[0]
    seed = enc.seed.expand(b, 1, -1) + enc.global_embed(inp.glob).unsqueeze(1)
    keys = padding_bias(torch.cat([inp.mask.new_ones(b, 1), inp.mask], dim=1))
    h = enc.pma.norm1(seed + enc.pma.attn(torch.cat([seed, enc.pool_rff(x)], dim=1), keys, n_queries=1))
    return enc.pma.norm2(h + enc.pma.rff(h)).squeeze(1)


def iaformer_reference(enc: IAFormer, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
    """IAFormer on the padded (B, P, D) slots: every layer sees every slot, (B, D)."""
    inp = enc._inputs(momenta, types, globals_)
    b, p = inp.mask.shape
    h, d = enc.num_heads, enc.embed_dim
    x = enc.embed(inp.x).masked_fill(~inp.mask.unsqueeze(-1), 0.0)
    logits = enc.pair_embed(inp.pairs, inp.mask).float() + padding_bias(inp.mask)
    logits = logits.view(b, enc.num_layers, 2, h, p, p)
    for l, block in enumerate(enc.blocks):
        v = block.value(block.norm_attn(x)).view(b, p, h, d // h).transpose(1, 2)
        alpha = torch.softmax(logits[:, l, 0], -1) - block.beta * torch.softmax(logits[:, l, 1], -1)
        o = block.head_norm(alpha.to(v.dtype) @ v)
        x = x + block.proj(o.transpose(1, 2).reshape(b, p, d))
        x = x + block.ffn(block.norm_fc(x))
    cls = enc.cls_token.expand(b, 1, -1) + enc.global_embed(inp.glob).unsqueeze(1)
    cls_bias = padding_bias(torch.cat([inp.mask.new_ones(b, 1), inp.mask], dim=1))
    for block in enc.cls_blocks:
        cls = block(cls, x, cls_bias)
    return enc.norm(cls.squeeze(1))


REFERENCE = {"sett": sett_reference, "iaformer": iaformer_reference}


def gradients(enc: ObjectEncoder, out: Tensor, weights: Tensor) -> dict[str, Tensor]:
    """d(Σ weights · out)/dθ for every parameter θ of enc."""
    enc.zero_grad()
    (out * weights).sum().backward()
    return {name: p.grad.clone() for name, p in enc.named_parameters()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,variant", CASES)
def test_packed_forward_and_gradients_equal_the_padded_reference(name, variant, dtype):
    enc = make_encoder(name, variant, dtype)
    events = make_events()
    assert (events[1] != 0).sum(1)[:3].tolist() == [0, 1, SLOTS]
    out = enc(*events)
    want = REFERENCE[name](enc, *events)
    assert out.shape == (12, enc.embed_dim) and out.dtype == dtype and torch.isfinite(out).all()
    torch.testing.assert_close(out, want, **TOLERANCE[dtype])
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(5), dtype=dtype)
    got_grads, want_grads = gradients(enc, out, weights), gradients(enc, want, weights)
    for pname, grad in got_grads.items():
        assert torch.isfinite(grad).all(), pname
        scale = want_grads[pname].abs().max().item()
        torch.testing.assert_close(grad, want_grads[pname], rtol=TOLERANCE[dtype]["rtol"],
                                   atol=TOLERANCE[dtype]["rtol"] * max(scale, 1e-3), msg=lambda m: f"{pname}: {m}")


@pytest.mark.parametrize("name,variant", CASES)
def test_batch_without_any_object_is_finite_and_equals_the_reference(name, variant):
    enc = make_encoder(name, variant)
    momenta, types, globals_ = make_events()
    types = torch.zeros_like(types)
    momenta = torch.zeros_like(momenta)
    out = enc(momenta, types, globals_)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, REFERENCE[name](enc, momenta, types, globals_), **TOLERANCE[torch.float32])


@pytest.mark.parametrize("name,variant", [("sett", "pair+sm"), ("iaformer", "pair+sm")])
def test_per_object_layers_see_only_the_real_objects(name, variant):
    enc = make_encoder(name, variant)
    events = make_events()
    n_real = int((events[1] != 0).sum())
    per_object = [enc.embed]
    if name == "sett":
        per_object += [enc.pool_rff, *(m for sab in enc.sabs for m in (sab.attn.qkv, sab.norm1, sab.rff, sab.norm2))]
    else:
        per_object += [m for blk in enc.blocks for m in (blk.norm_attn, blk.value, blk.head_norm, blk.proj, blk.ffn)]
    heads = {id(blk.head_norm) for blk in enc.blocks} if name == "iaformer" else set()
    shapes: dict[int, list[tuple[int, ...]]] = {}
    handles = [m.register_forward_pre_hook(lambda m, args: shapes.setdefault(id(m), []).append(tuple(args[0].shape)))
               for m in per_object]
    try:
        enc(*events)
    finally:
        for handle in handles:
            handle.remove()
    for m in per_object:  # one call each, on (N, ·) rows; the per-head LayerNorm on (N, H, d)
        assert [(s[0], len(s)) for s in shapes[id(m)]] == [(n_real, 3 if id(m) in heads else 2)], (m, shapes[id(m)])
