from __future__ import annotations

import pytest
import torch

from vidsum.errors import UsageError
from vidsum.models import sum_gan

torch.set_num_threads(1)


def _model(**kw) -> sum_gan.SumGAN:
    torch.manual_seed(0)
    return sum_gan.build(sum_gan.SumGANConfig(input_dim=8, hidden=6, layers=1, **kw))


def test_train_step_updates_all_three_players() -> None:
    model = _model()
    optimizers = sum_gan.make_optimizers(model, 1e-2)
    groups = model.groups()
    assert optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(1e-3)  # lr * 0.1
    # Every parameter belongs to exactly one player.
    ids = [id(p) for ps in groups.values() for p in ps]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    before = {name: [p.detach().clone() for p in ps] for name, ps in groups.items()}
    loss = sum_gan.train_step(model, optimizers, [(torch.randn(15, 8), None)])
    assert loss > 0
    for name, ps in groups.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], ps)), name


def test_compression_reconstructs_the_compressed_features() -> None:
    model = _model(compress_dim=4)
    x = torch.randn(10, 8)
    assert model.compress(x).shape == (10, 4)
    mu, log_var = model.encode(model.compress(x), model(x))
    assert mu.shape == log_var.shape == (6,)
    assert model.decode(mu, 10).shape == (10, 4)
    with torch.no_grad():
        assert sum_gan.validation(model.eval(), x, None) > 0


def test_sparsity_is_part_of_the_summarizer_loss() -> None:
    # All else equal, a target far from the selector's mean costs more.
    near, far = _model(sparsity_target=0.5), _model(sparsity_target=1.0)
    x = torch.randn(12, 8)
    torch.manual_seed(1)
    a = float(sum_gan.objective(near, x, None).detach())
    torch.manual_seed(1)
    b = float(sum_gan.objective(far, x, None).detach())
    mean = float(near(x).mean().detach())
    assert b - a == pytest.approx(abs(mean - 1.0) - abs(mean - 0.5), rel=1e-4)


def test_supervised_variant_needs_labels() -> None:
    model = sum_gan.build(sum_gan.SumGANSupConfig(input_dim=8, hidden=6, layers=1))
    with pytest.raises(UsageError, match="gtscore"):
        sum_gan.objective(model, torch.randn(5, 8), None)
    y = torch.rand(5)
    with torch.no_grad():
        assert sum_gan.validation(model.eval(), torch.randn(5, 8), y) >= 0
