from __future__ import annotations

import itertools
import math

import pytest
import torch

from vidsum.errors import UsageError
from vidsum.models import dr_dsn

torch.set_num_threads(1)


def _reward_by_hand(x: torch.Tensor, selected: list[int], window: int) -> float:
    """Zhou et al.'s R_div + R_rep written out with loops."""
    if not selected:
        return 0.0
    div = 0.0
    if len(selected) > 1:
        for t, u in itertools.permutations(selected, 2):
            cos = float(x[t] @ x[u] / (x[t].norm() * x[u].norm()))
            div += 1.0 if window and abs(t - u) > window else 1.0 - cos
        div /= len(selected) * (len(selected) - 1)
    rep = math.exp(-sum(min(float((x[t] - x[u]).norm()) for u in selected) for t in range(len(x))) / len(x))
    return div + rep


@pytest.mark.parametrize("selected", [[], [3], [0, 5], [1, 2, 7, 8], list(range(10))])
@pytest.mark.parametrize("window", [0, 3])
def test_reward_matches_the_paper_formula(selected: list[int], window: int) -> None:
    torch.manual_seed(1)
    x = torch.randn(10, 5, dtype=torch.float64)
    got = float(dr_dsn.reward(x, torch.tensor(selected, dtype=torch.int64), window))
    assert got == pytest.approx(_reward_by_hand(x, selected, window), rel=1e-9, abs=1e-12)


def test_reward_prefers_diverse_selections() -> None:
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    x = torch.stack([a, a, a, b])
    assert dr_dsn.reward(x, torch.tensor([0, 3]), 0) > dr_dsn.reward(x, torch.tensor([0, 1]), 0)


def test_baseline_moves_in_training_only() -> None:
    torch.manual_seed(0)
    model = dr_dsn.build(dr_dsn.DRDSNConfig(input_dim=6, hidden=4))
    x = torch.randn(12, 6)
    assert math.isnan(float(model.reward_baseline))
    model.eval()
    dr_dsn.objective(model, x, None)
    assert math.isnan(float(model.reward_baseline))
    model.train()
    dr_dsn.objective(model, x, None)
    first = float(model.reward_baseline)
    assert 0.0 < first < 3.0  # R_div <= 2, R_rep <= 1
    dr_dsn.objective(model, x, None)
    assert float(model.reward_baseline) != first
    assert "reward_baseline" in model.state_dict()  # travels with the checkpoint


def test_supervised_variant_adds_the_label_term() -> None:
    torch.manual_seed(0)
    sup = dr_dsn.build(dr_dsn.DRDSNSupConfig(input_dim=6, hidden=4)).eval()
    unsup = dr_dsn.build(dr_dsn.DRDSNConfig(input_dim=6, hidden=4)).eval()
    unsup.load_state_dict(sup.state_dict())
    x, y = torch.randn(9, 6), torch.rand(9)
    torch.manual_seed(5)  # the same sampled selections for both
    with_labels = float(dr_dsn.objective(sup, x, y).detach())
    torch.manual_seed(5)
    reinforce = float(dr_dsn.objective(unsup, x, y).detach())  # plain DR-DSN ignores labels
    bce = float(torch.nn.functional.binary_cross_entropy(sup(x).clamp(1e-6, 1 - 1e-6), y).detach())
    assert with_labels == pytest.approx(reinforce + bce, rel=1e-5)
    with pytest.raises(UsageError, match="gtscore"):
        dr_dsn.objective(sup, x, None)


def test_validation_is_label_free_for_dr_dsn() -> None:
    torch.manual_seed(0)
    model = dr_dsn.build(dr_dsn.DRDSNConfig(input_dim=6, hidden=4)).eval()
    x = torch.randn(20, 6)
    with torch.no_grad():
        assert dr_dsn.validation(model, x, None) == dr_dsn.validation(model, x, torch.rand(20))
        top = dr_dsn.summary_steps(model(x))
        assert dr_dsn.validation(model, x, None) == pytest.approx(-float(dr_dsn.reward(x, top, 20)))


def test_config_is_checked() -> None:
    with pytest.raises(UsageError, match="episodes"):
        dr_dsn.DRDSNConfig(episodes=0)
    with pytest.raises(UsageError, match="temporal_window"):
        dr_dsn.DRDSNConfig(temporal_window=-1)
