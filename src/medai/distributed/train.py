"""Data-parallel training on Ray Train (TorchTrainer, DistributedDataParallel over gloo on CPUs).

Imaging: :class:`RayImageClassifier` is the imaging estimator with ``fit`` run on ``workers`` Ray Train
workers: each worker takes a disjoint shard of every epoch's shuffled order, gradients are
averaged by DDP, and rank 0 reports a checkpoint (the network's weights as safetensors) per epoch.
Everything after ``fit`` — temperature calibration, threshold, evaluation with bootstrap CIs,
saliency examples, card and ModelPackage — is the single-process recipe's code
(:func:`train_imaging_on_ray` calls the same functions in the same order).

Sepsis: :func:`train_sepsis_on_ray` is the ``sepsis-ews`` recipe (LightGBM, blend, calibration,
threshold, evaluation, card, ModelPackage) with its GRU fitted by
:class:`medai.distributed.sepsis_gru.RaySepsisGRU` (the single-process training loop on Ray Train workers).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from medai.imaging.model import ImageClassifier


def _imaging_loop(config: dict) -> None:
    """One Ray Train worker's loop: the single-process recipe's loop over this worker's shard."""
    import ray.train
    import ray.train.torch
    import torch
    from safetensors.torch import save_file

    from medai.imaging.augment import augment
    from medai.imaging.networks import build_network
    from medai.imaging.tasks import get_task

    torch.set_num_threads(1)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    task = get_task(config["task"])
    torch.manual_seed(config["seed"])
    generator = torch.Generator().manual_seed(config["seed"])  # same order on every worker; each takes its slice
    net = ray.train.torch.prepare_model(build_network(config["network"]))
    X, y = config["X"], config["y"]
    counts = np.bincount(y, minlength=len(task.classes)).astype(float)
    weights = torch.tensor((counts.sum() / np.maximum(counts, 1) / len(counts)) ** 0.5, dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=config["label_smoothing"])
    optimiser = torch.optim.AdamW(net.parameters(), lr=config["learning_rate"], weight_decay=config["weight_decay"])
    batch = config["batch_size"]
    steps = config["epochs"] * int(np.ceil(len(X) / batch))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config["learning_rate"], total_steps=steps)
    X_t, y_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y.astype(np.int64))
    for epoch in range(config["epochs"]):
        net.train()
        order = torch.randperm(len(X_t), generator=generator)
        total = 0.0
        for i in range(0, len(order), batch):
            index = order[i:i + batch][rank::world]  # the global batch, split across workers
            if len(index) < 2:
                continue
            loss = loss_fn(net(augment(X_t[index], generator, flip_axes=task.flip_axes)), y_t[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(index)
        metrics = {"epoch": epoch + 1, "loss": total / max(1, len(X_t) // world)}
        with tempfile.TemporaryDirectory() as folder:
            checkpoint = None
            if rank == 0:
                module = net.module if hasattr(net, "module") else net
                save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(Path(folder) / "network.safetensors"))
                checkpoint = ray.train.Checkpoint.from_directory(folder)
            ray.train.report(metrics, checkpoint=checkpoint)


class RayImageClassifier(ImageClassifier):
    """:class:`ImageClassifier` whose ``fit`` runs data-parallel on Ray Train (``workers`` CPU workers)."""

    def __init__(self, task: str, *, workers: int = 2, storage: str | None = None, **params):
        super().__init__(task, **params)
        self.workers = workers
        self.storage = storage

    def fit(self, X: np.ndarray, y: np.ndarray, X_monitor: np.ndarray | None = None,
            y_monitor: np.ndarray | None = None) -> "RayImageClassifier":
        """Train on Ray Train; the fitted attributes are those of the single-process ``fit``."""
        import time

        import torch
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer
        from safetensors.torch import load_file

        from medai.imaging.networks import build_network, network_config
        from medai.imaging.tasks import get_task

        task = get_task(self.task)
        self.config_ = network_config(task, tuple(self.widths))
        self.classes_ = np.arange(len(task.classes))
        self.temperature_ = 1.0
        config = {"task": self.task, "network": self.config_, "X": X, "y": y, "epochs": self.epochs, "seed": self.seed,
                  "batch_size": self.batch_size, "learning_rate": self.learning_rate, "weight_decay": self.weight_decay,
                  "label_smoothing": self.label_smoothing}
        storage = self.storage or tempfile.mkdtemp(prefix="medai-ray-train-")
        began = time.time()
        trainer = TorchTrainer(_imaging_loop, train_loop_config=config,
                               scaling_config=ScalingConfig(num_workers=self.workers, use_gpu=False,
                                                            resources_per_worker={"CPU": 1}),
                               run_config=RunConfig(storage_path=storage, name=f"{self.task}-ddp"))
        result = trainer.fit()
        net = build_network(self.config_)
        with result.checkpoint.as_directory() as folder:
            net.load_state_dict({k: torch.as_tensor(v) for k, v in load_file(str(Path(folder) / "network.safetensors")).items()})
        net.eval()
        self.network_ = net
        self.history_ = [{"epoch": int(m["epoch"]), "loss": float(m["loss"])} for m in (result.metrics_dataframe.to_dict("records")
                                                                                        if result.metrics_dataframe is not None else [])]
        if X_monitor is not None and y_monitor is not None and self.history_:
            self.history_[-1]["monitor_auroc"] = self._monitor(X_monitor, y_monitor)
        self.log(f"Ray Train: {self.workers} workers, {self.epochs} epochs in {time.time() - began:.0f}s")
        return self


def train_imaging_on_ray(task_name: str, root: str | Path | None, out_dir: str | Path, workers: int = 2,
                         epochs: int | None = None, n_boot: int = 500, cache_dir: Path | None = None,
                         log: Callable[[str], None] = print, limit: int | None = None) -> Path:
    """The single-process imaging recipe with the network trained on Ray Train; writes the ModelPackage.

    ``limit`` keeps ``limit`` training cases spread evenly over the list (for quick checks); the card states the count used.
    """
    from medai.imaging.cohorts import load_cohort, prepare_cases
    from medai.imaging.tasks import get_task
    from medai.imaging.train import RECIPES, package_trained

    task = get_task(task_name)
    recipe = RECIPES[task.name]
    cohort = load_cohort(task.name, root)
    if limit is not None and limit < len(cohort.train):
        cohort.train = cohort.train[::len(cohort.train) // limit][:limit]  # spread over the (class-ordered) list
    log(f"{task.name}: {len(cohort.train)} train, {len(cohort.validation)} validation; Ray Train with {workers} workers")
    X, y = prepare_cases(task, cohort.train, cache_dir, log)
    X_val, y_val = prepare_cases(task, cohort.validation, cache_dir, log)
    model = RayImageClassifier(task.name, workers=workers, epochs=epochs or recipe.epochs, batch_size=recipe.batch_size,
                               learning_rate=recipe.learning_rate, widths=recipe.widths, log=log)
    model.fit(X, y, X_val, y_val).calibrate(X_val, y_val)
    return package_trained(task, cohort, model, X_val, y_val, out_dir, n_boot=n_boot, log=log,
                           training={"engine": "ray-train", "workers": workers})


def train_sepsis_on_ray(root: str | Path | None, out_dir: str | Path, workers: int = 2, address: str | None = None,
                        gru_params: dict | None = None, n_boot: int = 200, log: Callable[[str], None] = print,
                        limit: int | None = None) -> Path:
    """The single-process ``sepsis-ews`` recipe with its GRU trained on Ray Train; writes the ModelPackage.

    LightGBM, the blend, calibration, threshold, evaluation and card run in this process, as in
    ``medai sepsis train``. ``gru_params`` override ``SepsisGRU``'s defaults (``threads`` defaults to 1
    per worker); ``limit`` reads only the first ``limit`` stays (quick checks; the card states the counts).
    """
    from medai.distributed.runtime import ray_session
    from medai.distributed.sepsis_gru import RaySepsisGRU
    from medai.risk.sepsis.train import train_and_package

    params = {"threads": 1, **(gru_params or {})}
    log(f"sepsis-ews: GRU on Ray Train with {workers} workers")
    with ray_session(address):
        return train_and_package(None if root is None else Path(root), Path(out_dir), log=log, n_boot=n_boot,
                                 make_gru=lambda n_jobs: RaySepsisGRU(workers=workers, address=address, **params), limit=limit,
                                 training={"engine": "ray-train", "model": "gru", "workers": workers})
