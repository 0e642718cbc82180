"""`--executor local|ray` and the Ray flags, shared by `vidsum features` and `vidsum summarize`."""

from __future__ import annotations

from typing import Any, Optional

import typer

EXECUTOR = typer.Option(
    "local", "--executor", help="Where decoding and the backbone run: 'local' (this machine) or 'ray' (a Ray "
    "cluster: --ray-address, else $RAY_ADDRESS, else a local one; needs `pip install 'vidsum\\[ray]'`, docs/scaling.md).",
)
RAY_ADDRESS = typer.Option(
    None, "--ray-address", help="Ray cluster to join (e.g. auto, head-node:6379, ray://head-node:10001). "
    "Default: $RAY_ADDRESS, else a new local cluster.", show_default=False,
)
RAY_ACTORS = typer.Option(
    None, "--ray-actors", help="Backbone actors (default: one per GPU; CPU-only: half the CPUs, 2 per actor).",
    show_default=False,
)
RAY_GPUS = typer.Option(
    None, "--ray-gpus-per-actor", help="GPUs per backbone actor (default 1 where the cluster has GPUs, else 0; "
    "0.5 puts two actors on a GPU).", show_default=False,
)
RAY_RETRIES = typer.Option(2, "--ray-retries", help="Restarts of a video after a worker, node or actor failure, before it is listed as failed.")


def make_executor(
    executor: str, ray_address: Optional[str], ray_actors: Optional[int], ray_gpus: Optional[float], ray_retries: int
) -> Any:
    """None for the local executor, else a started-on-demand RayExecutor (a context manager).
    Ray flags without ``--executor ray`` are a usage error, so that they never silently do nothing."""
    from vidsum.errors import UsageError

    if executor not in ("local", "ray"):
        raise UsageError(f"--executor must be 'local' or 'ray', not {executor!r}")
    if executor == "local":
        given = [f for f, v in (("--ray-address", ray_address), ("--ray-actors", ray_actors), ("--ray-gpus-per-actor", ray_gpus)) if v is not None]
        if given:
            raise UsageError(f"{', '.join(given)} given without --executor ray; add --executor ray or drop them")
        return None
    from vidsum.extraction_ray import RayExecutor, RayOptions, import_ray

    import_ray()  # one clear line, before any work, when Ray is not installed
    return RayExecutor(RayOptions(address=ray_address, actors=ray_actors, gpus_per_actor=ray_gpus, max_retries=ray_retries))
