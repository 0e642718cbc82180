from __future__ import annotations

import pytest
import torch

from vidsum.errors import UsageError
from vidsum.models import vasnet

torch.set_num_threads(1)


def test_attention_rows_are_distributions_with_the_paper_scale() -> None:
    torch.manual_seed(0)
    model = vasnet.build(vasnet.VASNetConfig(input_dim=6, attention_dim=4, head_hidden=5)).double().eval()
    x = torch.randn(7, 6, dtype=torch.float64)
    a = model.attention(x)
    torch.testing.assert_close(a.sum(-1), torch.ones(7, dtype=torch.float64))
    q, k = x @ model.q.weight.T, x @ model.k.weight.T
    torch.testing.assert_close(a, torch.softmax(0.06 * q @ k.T, dim=-1))


def test_chunked_inference_equals_the_full_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = vasnet.build(vasnet.VASNetConfig(input_dim=6, attention_dim=4, head_hidden=5)).double().eval()
    x = torch.randn(11, 6, dtype=torch.float64)
    with torch.no_grad():
        full = model(x)
        monkeypatch.setattr(vasnet, "QUERY_CHUNK", 3)
        chunked = model(x)
        u = model.norm(model.o(model.attention(x) @ model.v(x)) + x)
        by_hand = torch.sigmoid(model.regressor(u).squeeze(-1))
    torch.testing.assert_close(chunked, full)
    torch.testing.assert_close(full, by_hand)


def test_config_is_checked() -> None:
    with pytest.raises(UsageError, match="scale"):
        vasnet.VASNetConfig(scale=0)
    with pytest.raises(UsageError, match="dropout"):
        vasnet.VASNetConfig(dropout=1.0)
