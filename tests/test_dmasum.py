from __future__ import annotations

import math

import pytest
import torch

from vidsum.config import ModelConfig
from vidsum.models.dmasum import DMASum, MixtureOfAttention

torch.set_num_threads(1)

TINY = dict(input_dim=12, d_model=8, lstm_hidden=4, head_hidden=8, layers_visual=2, layers_sequential=1)


def _moa(attention: str = "moa", chunk: int = 1024) -> MixtureOfAttention:
    torch.manual_seed(0)
    return MixtureOfAttention(8, attention, chunk=chunk).double()


def test_moa_weights_rows_are_distributions_and_match_hand_formula() -> None:
    layer = _moa()
    x = torch.randn(2, 7, 8, dtype=torch.float64)
    w = layer.weights(x)
    assert w.shape == (2, 7, 7)
    assert torch.all(w > 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 7, dtype=torch.float64))
    # The same matrix written out from the docstring's equations, one query at a time.
    q, k, v = layer.q(x[0]), layer.k(x[0]), layer.v(x[0])
    q_hat = torch.tanh(q @ layer.assoc.weight.T)
    p = torch.stack([torch.softmax(k @ q[t] / math.sqrt(8), 0) for t in range(7)])
    p_hat = torch.stack([torch.softmax(k @ q_hat[t] / math.sqrt(8), 0) for t in range(7)])
    torch.testing.assert_close(w[0], p @ p_hat)
    # forward() is that matrix applied to the values.
    torch.testing.assert_close(layer(x)[0], p @ p_hat @ v)


def test_softmax_ablation_is_standard_attention() -> None:
    layer = _moa("softmax")
    assert layer.assoc is None
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    q, k, v = layer.q(x), layer.k(x), layer.v(x)
    expected = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(8), -1) @ v
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.weights(x).sum(-1), torch.ones(1, 5, dtype=torch.float64))


def test_moa_is_not_the_softmax_of_its_own_logits() -> None:
    # MoA must differ from plain attention with the same Q/K/V (else the switch does nothing).
    moa, soft = _moa("moa"), _moa("softmax")
    x = torch.randn(1, 6, 8, dtype=torch.float64)
    assert not torch.allclose(moa(x), soft(x), atol=1e-6)


@pytest.mark.parametrize("attention", ["moa", "softmax"])
def test_chunked_equals_full(attention: str) -> None:
    full, chunked = _moa(attention, chunk=10_000), _moa(attention, chunk=3)
    x = torch.randn(2, 11, 8, dtype=torch.float64)  # 11 = 3 + 3 + 3 + 2: a ragged last chunk
    torch.testing.assert_close(chunked(x), full(x))
    torch.testing.assert_close(chunked(x)[0], full.weights(x)[0] @ full.v(x)[0])


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = DMASum(ModelConfig(**TINY))
    model(torch.randn(9, 12)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # The associated-query weights get a gradient through tanh and the second softmax.
    assert model.visual[0].attn.assoc.weight.grad.abs().max() > 0


@pytest.mark.parametrize("channels", ["both", "visual", "sequential"])
@pytest.mark.parametrize("attention", ["moa", "softmax"])
def test_shapes_and_range(channels: str, attention: str) -> None:
    torch.manual_seed(0)
    model = DMASum(ModelConfig(**TINY, channels=channels, attention=attention)).eval()
    single = model(torch.randn(13, 12))
    batch = model(torch.randn(3, 13, 12))
    assert single.shape == (13,) and batch.shape == (3, 13)
    assert torch.all((batch > 0) & (batch < 1))
    names = {n.split(".")[0] for n, _ in model.named_parameters()}
    assert ("lstm" in names) == (channels != "visual")
    assert ("visual" in names) == (channels != "sequential")


def test_batch_rows_are_independent_videos() -> None:
    torch.manual_seed(0)
    model = DMASum(ModelConfig(**TINY)).eval()
    x = torch.randn(2, 10, 12)
    torch.testing.assert_close(model(x)[1], model(x[1]))


def test_rejects_wrong_feature_size() -> None:
    model = DMASum(ModelConfig(**TINY))
    with pytest.raises(ValueError, match=r"\(T, 12\)"):
        model(torch.randn(5, 13))


def test_paper_size_parameter_count() -> None:
    # Paper 4.1 sizes: visual 4 x MoA (4 d^2 + 3 d), BiLSTM 2 x 512, sequential 2 x MoA, head 2048->1024->1.
    model = DMASum(ModelConfig())
    d, h = 1024, 512
    moa = 4 * d * d + 3 * d + 2 * d  # Q, K, V with bias, assoc without, LayerNorm
    lstm = 2 * (4 * h * (d + h) + 8 * h) + 2 * (4 * h * (2 * h + h) + 8 * h)
    head = 2 * d * d + d + d + 1
    assert sum(p.numel() for p in model.parameters()) == 6 * moa + lstm + head


LONG_VIDEO_PROBE = """
import resource, sys, torch
torch.set_num_threads(1)
import vidsum.models.dmasum as vm
from vidsum.config import ModelConfig
model = vm.DMASum(ModelConfig(input_dim=16, d_model=16, lstm_hidden=8, head_hidden=16, layers_visual=1,
                              layers_sequential=1)).eval()
for m in model.modules():
    if isinstance(m, vm.MixtureOfAttention):
        m.chunk = int(sys.argv[2])
x = torch.randn(int(sys.argv[1]), 16)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.inference_mode():
    scores = model(x)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(scores.shape[0], (after - before) / 1024)
"""


def test_long_video_inference_never_holds_a_full_t_by_t_matrix() -> None:
    # One float32 8,000 x 8,000 matrix is 256 MB; with chunk = T (no chunking) this probe grows by
    # ~530 MB, with the default 1,024-query chunks by ~140 MB (O(chunk * T)). 2-hour videos have
    # ~14,000 steps, where a full matrix would be 784 MB each.
    import subprocess
    import sys

    from vidsum.models.dmasum import QUERY_CHUNK

    probe = [sys.executable, "-c", LONG_VIDEO_PROBE, "8000", str(QUERY_CHUNK)]
    n, grown_mb = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.split()
    assert int(n) == 8000
    assert float(grown_mb) < 300, f"inference grew the process by {grown_mb} MB"
