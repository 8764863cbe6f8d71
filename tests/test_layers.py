"""TokenPacking and the packed attention paths against the padded computation they replace."""

import pytest
import torch

from estimators.layers import AttentionBlock, ClassAttentionBlock, TokenPacking, padding_bias


def _mask(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(5, 7, generator=g) < 0.6
    mask[0] = False  # an event without objects
    mask[1] = True  # a full one
    mask[2] = False
    mask[2, 4] = True  # a single object in a middle slot
    return mask


def test_split_and_merge_heads_match_the_padded_layout():
    mask = _mask()
    packing = TokenPacking(mask)
    b, p, h, d = *mask.shape, 2, 3
    full = torch.randn(b, p, 3 * h * d, dtype=torch.float64) * mask[..., None]
    q, k, v = packing.split_heads(packing.gather(full), 3, h)
    expected = full.view(b, p, 3, h, d).permute(2, 0, 3, 1, 4)
    for got, want in zip((q, k, v), expected):
        assert torch.equal(got, want)
    assert torch.equal(packing.merge_heads(q), packing.gather(full[..., : h * d]))


def test_join_leading_puts_the_class_token_in_front_of_each_event():
    mask = _mask(1)
    packing = TokenPacking(mask)
    lead = packing.with_leading_token()
    cls = torch.randn(mask.shape[0], 4)
    objects = torch.randn(*mask.shape, 4)
    rows = lead.join_leading(cls, packing.gather(objects))
    assert torch.equal(rows, lead.gather(torch.cat([cls[:, None], objects], dim=1)))
    assert torch.equal(rows.index_select(0, lead.leading_rows()), cls)


@pytest.mark.parametrize("normformer", [True, False])
def test_packed_blocks_equal_the_padded_blocks(normformer):
    """On the CPU the packed block runs the hand-written attention backward; the padded one runs autograd."""
    torch.manual_seed(0)
    mask = _mask(2)
    b, p, dim, heads = *mask.shape, 8, 2
    block = AttentionBlock(dim, heads, normformer=normformer).double()
    cls_block = ClassAttentionBlock(dim, heads, normformer=normformer).double()
    x = torch.randn(b, p, dim, dtype=torch.float64, requires_grad=True)
    cls = torch.randn(b, dim, dtype=torch.float64, requires_grad=True)
    pair_bias = torch.randn(b, heads, p, p, dtype=torch.float64, requires_grad=True)
    bias = pair_bias + padding_bias(mask, torch.float64)
    cls_bias = padding_bias(torch.cat([mask.new_ones(b, 1), mask], dim=1), torch.float64)

    padded_x = block(x, bias)
    padded = cls_block(cls[:, None], padded_x, cls_bias).squeeze(1)
    packing = TokenPacking(mask)
    packed_x = block(packing.gather(x), bias, packing)
    packed = cls_block(cls, packed_x, cls_bias, packing.with_leading_token())

    torch.testing.assert_close(packed_x, packing.gather(padded_x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(packed, padded, rtol=1e-12, atol=1e-12)
    weights = torch.randn(b, dim, dtype=torch.float64)
    inputs = [cls, x, pair_bias, *block.parameters(), *cls_block.parameters()]
    grads_padded = torch.autograd.grad((padded * weights).sum(), inputs)
    grads_packed = torch.autograd.grad((packed * weights).sum(), inputs)
    for a, c in zip(grads_packed, grads_padded):
        torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("pair_bias", [True, False])
def test_hand_written_attention_backward_equals_the_generic_packed_path(pair_bias):
    """The CPU autograd.Function and split_heads → biased_attention → merge_heads (the accelerator path)."""
    from estimators.layers import _PackedSelfAttentionCPU, biased_attention

    torch.manual_seed(1)
    mask = _mask(3)
    packing = TokenPacking(mask)
    heads, d = 2, 3
    rows = torch.randn(int(mask.sum()), 3 * heads * d, dtype=torch.float64, requires_grad=True)
    shape = (mask.shape[0], heads, mask.shape[1], mask.shape[1]) if pair_bias else (mask.shape[0], 1, 1, mask.shape[1])
    extra = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    bias = extra + padding_bias(mask, torch.float64)
    fused = _PackedSelfAttentionCPU.apply(rows, bias, packing, heads)
    generic = packing.merge_heads(biased_attention(*packing.split_heads(rows, 3, heads), bias))
    torch.testing.assert_close(fused, generic, rtol=1e-12, atol=1e-12)
    weights = torch.randn_like(fused)
    for a, b in zip(torch.autograd.grad((fused * weights).sum(), [rows, extra]),
                    torch.autograd.grad((generic * weights).sum(), [rows, extra])):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
