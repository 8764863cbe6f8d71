"""Tests of the encoders: interface, permutation and padding invariance, gradients, bf16 autocast, registry.

Tolerances: permutation and extra padding change only the summation order inside float32 reductions, so the
outputs must agree to float32 rounding (torch.testing defaults for float32: rtol 1.3e-6, atol 1e-5).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from estimators.encoders import ENCODERS, PERMUTATION_INVARIANT, build_encoder

N_GLOBALS = 2
SLOTS = 6
# small configurations; the attention encoders get every pair/interaction input they can take
CONFIGS = {
    "mlp": dict(hidden=(32, 16)),
    "cnn1d": dict(channels=(8, 8), embed_dim=16),
    "mixer": dict(dim=16, num_layers=1, token_hidden=8, channel_hidden=16),
    "particlenet": dict(k=3, conv_dims=((16, 16), (16, 16)), pair="mass,delta_r", interaction="sm_running",
                        embed_dim=16),
    "part": dict(embed_dims=(16, 16), pair_embed_dims=(8,), num_heads=2, num_layers=2, pair="mass,delta_r",
                 interaction="sm_running"),
    "sett": dict(dim=16, num_heads=2, num_layers=1, pair_embed_dims=(8,), pair="ln_kt,ln_z,ln_delta,ln_m2",
                 interaction="sm_const"),
    "iaformer": dict(dim=16, num_heads=2, num_layers=2, pair_embed_dims=(8,), interaction="sm_ids"),
}


def make_events(n_events: int = 8, n_slots: int = SLOTS, seed: int = 0):
    """Events with 0, 1 and up to n_slots real objects (massive and massless), zero-padded at the end."""
    g = torch.Generator().manual_seed(seed)
    pt = torch.exp(torch.empty(n_events, n_slots).uniform_(np.log(10.0), np.log(300.0), generator=g))
    eta = torch.empty(n_events, n_slots).uniform_(-3, 3, generator=g)
    phi = torch.empty(n_events, n_slots).uniform_(-np.pi, np.pi, generator=g)
    mass = torch.empty(n_events, n_slots).uniform_(0, 20, generator=g) * (torch.rand(n_events, n_slots, generator=g) < 0.5)
    px, py, pz = pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)
    momenta = torch.stack([torch.sqrt(mass**2 + px**2 + py**2 + pz**2), px, py, pz], dim=-1)
    types = torch.randint(1, 8, (n_events, n_slots), generator=g)
    n_real = torch.randint(0, n_slots + 1, (n_events,), generator=g)
    n_real[:3] = torch.tensor([0, 1, n_slots])
    types[torch.arange(n_slots)[None, :] >= n_real[:, None]] = 0
    momenta[types == 0] = 0.0
    globals_ = torch.randn(n_events, N_GLOBALS, generator=g) * 20 + 30
    return momenta, types, globals_


def make_encoder(name: str, n_objects: int = SLOTS, seed: int = 0):
    torch.manual_seed(seed)
    enc = build_encoder(name, n_objects=n_objects, n_globals=N_GLOBALS, **CONFIGS[name])
    enc.fit_input_scaling(*make_events(64, SLOTS, seed=99))
    return enc.eval()


def pad(momenta, types, extra: int):
    return (torch.cat([momenta, momenta.new_zeros(momenta.shape[0], extra, 4)], 1),
            torch.cat([types, types.new_zeros(types.shape[0], extra)], 1))


ALL = sorted(ENCODERS)


def test_configs_cover_the_registry():
    assert set(CONFIGS) == set(ENCODERS)


@pytest.mark.parametrize("name", ALL)
def test_output_shape_finite_and_config_is_json(name):
    enc = make_encoder(name)
    momenta, types, globals_ = make_events()
    out = enc(momenta, types, globals_)
    assert out.shape == (8, enc.embed_dim) and out.dtype == torch.float32
    assert torch.isfinite(out).all()  # includes an event without objects and one with a single object
    assert json.loads(json.dumps(enc.config))["n_objects"] == SLOTS


@pytest.mark.parametrize("name", ALL)
def test_gradients_finite_for_every_parameter(name):
    enc = make_encoder(name).train()
    out = enc(*make_events())
    (out**2).mean().backward()
    for pname, p in enc.named_parameters():
        assert p.grad is not None, f"{pname} gets no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"


@pytest.mark.parametrize("name", PERMUTATION_INVARIANT)
def test_permuting_objects_leaves_output_unchanged(name):
    enc = make_encoder(name)
    momenta, types, globals_ = make_events()
    perm = torch.randperm(SLOTS, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(enc(momenta[:, perm], types[:, perm], globals_), enc(momenta, types, globals_))


@pytest.mark.parametrize("name", ALL)
def test_extra_padded_slots_leave_output_unchanged(name):
    enc = make_encoder(name, n_objects=SLOTS + 3)
    momenta, types, globals_ = make_events()
    reference = enc(momenta, types, globals_)
    torch.testing.assert_close(enc(*pad(momenta, types, 3), globals_), reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropping padding only is silent
        torch.testing.assert_close(enc(*pad(momenta, types, 7), globals_), reference)


@pytest.mark.parametrize("name", ["mlp", "part"])
def test_too_many_objects_are_truncated_by_pt_with_a_warning(name):
    enc = make_encoder(name, n_objects=4)
    momenta, types, globals_ = make_events()
    pt = torch.hypot(momenta[..., 1], momenta[..., 2]).masked_fill(types == 0, -1)
    keep = pt.argsort(1, descending=True)[:, :4].sort(1).values
    with pytest.warns(UserWarning, match="n_objects=4"):
        out = enc(momenta, types, globals_)
    expected = enc(torch.gather(momenta, 1, keep[..., None].expand(-1, -1, 4)), torch.gather(types, 1, keep), globals_)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("name", ALL)
def test_runs_under_bf16_autocast_on_cpu(name):
    enc = make_encoder(name).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc(*make_events())
    assert torch.isfinite(out).all()
    out.float().pow(2).mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in enc.parameters() if p.grad is not None)


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_rebuilds_the_same_encoder(name, tmp_path):
    enc = make_encoder(name)
    torch.save(enc.state_dict(), tmp_path / "weights.pt")
    config = json.loads(json.dumps(enc.config))
    twin = build_encoder(name, **config).eval()
    twin.load_state_dict(torch.load(tmp_path / "weights.pt", weights_only=True))
    events = make_events(seed=3)
    torch.testing.assert_close(twin(*events), enc(*events), rtol=0, atol=0)


@pytest.mark.parametrize("pair", ["none", "mass,delta_r", "ln_kt,ln_z,ln_delta,ln_m2"])
@pytest.mark.parametrize("interaction", ["none", "sm_ids", "sm_const", "sm_running"])
def test_part_variants_of_the_seed_table(pair, interaction):
    enc = build_encoder("part", n_objects=SLOTS, n_globals=N_GLOBALS, embed_dims=(8,), pair_embed_dims=(4,),
                        num_heads=2, num_layers=1, pair=pair, interaction=interaction)
    assert enc.n_pair_channels == len(pair.split(",")) * (pair != "none") + (interaction != "none")
    assert (enc.pair_embed is None) == (pair == "none" and interaction == "none")
    assert torch.isfinite(enc(*make_events())).all()


def test_interaction_changes_the_attention():
    events = make_events()
    outs = []
    for interaction in ("sm_ids", "sm_running"):
        torch.manual_seed(0)
        enc = build_encoder("part", n_objects=SLOTS, n_globals=N_GLOBALS, pair="none", interaction=interaction)
        outs.append(enc(*events))
    assert not torch.allclose(outs[0][3:], outs[1][3:])


def test_registry_errors_list_the_valid_choices():
    with pytest.raises(KeyError, match="iaformer.*mixer.*part"):
        build_encoder("transformer", n_objects=4, n_globals=0)
    with pytest.raises(TypeError, match="num_heads=4"):
        build_encoder("part", n_objects=4, n_globals=0, heads=4)
    with pytest.raises(TypeError, match="missing.*n_globals"):
        build_encoder("mlp", n_objects=4)
    with pytest.raises(ValueError, match="sm_running"):
        build_encoder("part", n_objects=4, n_globals=0, interaction="sm")
    with pytest.raises(ValueError, match="ln_kt"):
        build_encoder("particlenet", n_objects=4, n_globals=0, pair="m,dr")
    with pytest.raises(ValueError, match="pair features only"):
        build_encoder("iaformer", n_objects=4, n_globals=0, pair="none")


def test_bad_inputs_are_reported():
    enc = make_encoder("part")
    momenta, types, globals_ = make_events()
    with pytest.raises(ValueError, match="globals_"):
        enc(momenta, types, globals_[:, :1])
    with pytest.raises(ValueError, match="types"):
        enc(momenta, types.clamp(max=7) + 1, globals_)
    with pytest.raises(ValueError, match="momenta"):
        enc(momenta[..., :3], types, globals_)


@pytest.mark.parametrize("bias_shape", [(4, 3, 5, 7), (4, 1, 1, 7)])
def test_cpu_attention_path_equals_sdpa(bias_shape):
    from estimators.layers import MASK_VALUE, biased_attention

    g = torch.Generator().manual_seed(0)
    q = torch.randn(4, 3, 5, 8, generator=g, dtype=torch.float64)
    k, v = torch.randn(2, 4, 3, 7, 8, generator=g, dtype=torch.float64).unbind(0)
    bias = torch.randn(*bias_shape, generator=g, dtype=torch.float64)
    bias[0, ..., 2:] = MASK_VALUE  # padded keys
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias.expand(4, 3, 5, 7))
    torch.testing.assert_close(biased_attention(q, k, v, bias), want, rtol=1e-12, atol=1e-12)


def test_command_line_strings_are_parsed_by_the_defaults_types():
    from estimators.encoders import parse_options

    opts = parse_options("particlenet", {"n_objects": "6", "n_globals": "2", "k": "3", "pair": "mass,delta_r",
                                         "interaction": "sm_running", "conv_dims": "8,8;16,16", "embed_dim": "16"})
    assert opts == {"n_objects": 6, "n_globals": 2, "k": 3, "pair": "mass,delta_r", "interaction": "sm_running",
                    "conv_dims": [[8, 8], [16, 16]], "embed_dim": 16}
    enc = build_encoder("particlenet", **opts)
    assert torch.isfinite(enc(*make_events())).all()
    assert parse_options("part", {"embed_dims": "32,64", "dropout": "0.1", "normformer": "false"}) == {
        "embed_dims": [32, 64], "dropout": 0.1, "normformer": False}
    with pytest.raises(ValueError, match="num_layers"):
        parse_options("part", {"num_layers": "many"})
    with pytest.raises(TypeError, match="num_heads=4"):
        parse_options("part", {"heads": "4"})


@pytest.mark.parametrize("name", ALL)
def test_edge_batches_single_slot_empty_batch_and_input_dtypes(name):
    enc = build_encoder(name, n_objects=1, n_globals=N_GLOBALS, **CONFIGS[name]).eval()
    momenta, types, globals_ = make_events(8, 1)
    enc.fit_input_scaling(momenta, types, globals_)
    out = enc(momenta, types, globals_)
    assert out.shape == (8, enc.embed_dim) and torch.isfinite(out).all()
    # EventSample dtypes (int8 types) and float64 inputs give the same float32 result
    torch.testing.assert_close(enc(momenta.double(), types.to(torch.int8), globals_.double()), out, rtol=0, atol=0)
    assert enc(momenta[:0], types[:0], globals_[:0]).shape == (0, enc.embed_dim)
    assert enc.double()(momenta, types, globals_).dtype == torch.float64
