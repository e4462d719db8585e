"""The sepsis GRU trained data-parallel on Ray Train (TorchTrainer, DDP over gloo on CPUs).

:class:`RaySepsisGRU` is :class:`~medai.risk.sepsis.gru.SepsisGRU` whose training loop runs on
``workers`` Ray Train workers. Each worker runs the single-process loop
(:mod:`medai.risk.sepsis.gru_training`: the same epoch step, validation, LR schedule and early
stopping) on its rows of every global batch, with the loss scaled so that DDP's averaged gradient
is the global batch's; rank 0 reports the best averaged network as a safetensors checkpoint and the
driver finishes with ``SepsisGRU``'s own calibration. With one worker the fit is the single-process fit.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medai.datasets.physionet2019 import PatientStay
from medai.risk.sepsis.gru import GRUNet, SepsisGRU, _labelled, _threads
from medai.risk.sepsis.gru_training import EpochTrainer, LoopResult, prepare_data, train_loop
from medai.risk.sepsis.sequence import N_FEATURES, fit_input_stats


def _worker_loop(config: dict) -> None:
    """One Ray Train worker: the single-process GRU loop on this worker's rows of each global batch."""
    import ray
    import ray.train
    import ray.train.torch
    import torch
    import torch.distributed as dist
    from safetensors.torch import save_file

    start = time.perf_counter()
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    model = SepsisGRU(**config["params"])
    torch.set_num_threads(model.threads or 1)
    data = ray.get(config["data"])
    torch.manual_seed(model.seed)  # same initial weights and batch order on every worker, as in one process
    rng = np.random.default_rng(model.seed)
    trainer = EpochTrainer(model, data.pos_weight, wrap=ray.train.torch.prepare_model)

    def reduce(sums: tuple[float, float]) -> tuple[float, float]:
        if world == 1:
            return sums
        total = torch.tensor(sums, dtype=torch.float64)
        dist.all_reduce(total)
        return float(total[0]), float(total[1])

    def agree(stop: bool) -> bool:  # the wall-clock rule can differ between workers: stop together
        if world == 1:
            return stop
        flag = torch.tensor([float(stop)])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def report(entry: dict, last: bool, result: LoopResult) -> None:
        with tempfile.TemporaryDirectory() as folder:
            checkpoint = None
            if last and rank == 0:
                save_file({k: v.contiguous() for k, v in result.best_state.items()}, str(Path(folder) / "network.safetensors"))
                (Path(folder) / "loop.json").write_text(json.dumps({"best_epoch": result.best_epoch, "history": result.history}))
                checkpoint = ray.train.Checkpoint.from_directory(folder)
            ray.train.report(dict(entry), checkpoint=checkpoint)

    train_loop(model, data, trainer, rng, start, shard=(rank, world), reduce=reduce, agree=agree, on_epoch=report)


class RaySepsisGRU(SepsisGRU):
    """:class:`SepsisGRU` whose ``fit`` runs its training loop data-parallel on Ray Train (``workers`` CPU workers).

    ``address`` is the Ray to join when this process is not connected yet (None: start a local one);
    ``storage`` is Ray Train's storage path (default a temporary folder; on a cluster, one every node
    sees). ``threads`` is per worker. The fitted attributes and ``save`` are ``SepsisGRU``'s (the
    Ray settings are not saved), so the saved folder loads with ``SepsisGRU.load``.
    """

    def __init__(self, *, workers: int = 2, address: str | None = None, storage: str | None = None, **params):
        super().__init__(**params)
        self.workers = workers
        self.address = address
        self.storage = storage

    def fit(self, train_stays: Sequence[PatientStay], validation_stays: Sequence[PatientStay]) -> RaySepsisGRU:
        """Input stats and inputs here (train only), the loop on Ray Train, then the single-process calibration."""
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer
        from safetensors.torch import load_file

        from medai.distributed.runtime import ray_session

        train_stays = _labelled(train_stays, "train_stays")
        validation_stays = _labelled(validation_stays, "validation_stays")
        start = time.perf_counter()
        with _threads(self.threads), ray_session(self.address) as ray:
            self.input_stats_ = fit_input_stats((s.values for s in train_stays), self.clip, self.delta_cap)
            data = prepare_data(self, train_stays, validation_stays)
            self._log_start(data, len(train_stays), len(validation_stays))
            storage = self.storage or tempfile.mkdtemp(prefix="medai-ray-train-")
            trainer = TorchTrainer(_worker_loop, train_loop_config={"params": self.get_params(), "data": ray.put(data)},
                                   scaling_config=ScalingConfig(num_workers=self.workers, use_gpu=False,
                                                                resources_per_worker={"CPU": 1}),
                                   run_config=RunConfig(storage_path=storage, name="sepsis-gru-ddp"))
            result = trainer.fit()
            with result.checkpoint.as_directory() as folder:
                state = load_file(str(Path(folder) / "network.safetensors"))
                loop = json.loads((Path(folder) / "loop.json").read_text())
            self.net_ = GRUNet(N_FEATURES, self.hidden_size, self.num_layers, self.dropout)
            self._finish_fit(LoopResult(state, int(loop["best_epoch"]), loop["history"]), data, start)
        self._log(f"Ray Train: {self.workers} workers, {len(self.history_)} epochs in {self.fit_seconds_:.0f}s")
        return self
