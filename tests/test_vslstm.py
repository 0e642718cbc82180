from __future__ import annotations

import numpy as np
import pytest
import torch

from vidsum.errors import UsageError
from vidsum.models import vslstm

torch.set_num_threads(1)


def test_dpp_nll_matches_the_determinant_formula() -> None:
    torch.manual_seed(0)
    y = torch.rand(6, dtype=torch.float64) * 0.8 + 0.1
    phi = torch.nn.functional.normalize(torch.randn(6, 4, dtype=torch.float64), dim=-1)
    chosen = torch.tensor([1, 4])
    q = (y[:, None] * phi).numpy()
    kernel = q @ q.T
    sub = kernel[np.ix_([1, 4], [1, 4])] + vslstm.DPP_JITTER * np.eye(2)
    expected = np.log(np.linalg.det(kernel + np.eye(6))) - np.log(np.linalg.det(sub))
    assert float(vslstm.dpp_nll(y, phi, chosen)) == pytest.approx(expected, rel=1e-9)


def test_dpp_prefers_diverse_keyframes() -> None:
    # Two identical frames and one different: choosing the duplicates is less likely than a
    # duplicate plus the different frame (a DPP's repulsion), at equal quality.
    phi = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    y = torch.full((3,), 0.9, dtype=torch.float64)
    assert vslstm.dpp_nll(y, phi, torch.tensor([0, 2])) < vslstm.dpp_nll(y, phi, torch.tensor([0, 1]))


def test_keyframes_are_the_top_labels_in_time_order() -> None:
    y = torch.tensor([0.1, 0.9, 0.5, 0.9, 0.2, 0.95, 0.0, 0.3, 0.1, 0.4])
    assert vslstm.keyframes(y, 0.3).tolist() == [1, 3, 5]
    assert vslstm.keyframes(y, 0.01).tolist() == [5]  # never empty


def test_vslstm_config_is_checked() -> None:
    with pytest.raises(UsageError, match="lstm_hidden"):
        vslstm.VSLSTMConfig(lstm_hidden=0)
    with pytest.raises(UsageError, match="keyframe_fraction"):
        vslstm.DPPLSTMConfig(keyframe_fraction=0.0)
    assert vslstm.DPPLSTMConfig().dpp and not vslstm.VSLSTMConfig().dpp
    with pytest.raises(ValueError, match="DPP head"):
        vslstm.build(vslstm.VSLSTMConfig(input_dim=4, lstm_hidden=2, mlp_hidden=2)).parts(torch.randn(3, 4))
