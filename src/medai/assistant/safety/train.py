"""Train the two-stage crisis classifier and choose its thresholds on the Reddit C-SSRS validation users.

Stage ``topic``: the training users' posts (every level, each user weighing 1) against ordinary texts
(:func:`ordinary_texts`, each source weighing the same), the two classes weighing the same. Stage ``risk``:
each post of a training user labelled with its author's level (positive: Ideation, Behavior, Attempt), each
user weighing 1. The score of a message is P(topic) x P(risk | topic). A user is flagged when any of their
posts is (a conversation's risk never goes down). The ``low`` threshold is the highest that keeps
user-level recall >= ``TARGET_RECALL`` on the validation users' at-risk authors; the ``moderate`` threshold
is the 99th percentile of post scores of training users not at risk (or the low one if higher).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from medai import __version__
from medai.assistant.safety.embed import embed
from medai.assistant.safety.model import MODEL_NAME, VERSION, CrisisModel, LinearProbe, package_files
from medai.datasets import cognitive_distortions, counsel_chat
from medai.datasets import reddit_cssrs as data
from medai.datasets.registry import DATASETS
from medai.evaluate.bootstrap import bootstrap_ci
from medai.models import DataSource, Metric, ModelCard, OperatingPoint, SubgroupResult, save_package

DATASET = "Reddit C-SSRS suicide dataset (shared 400 users)"
TARGET_RECALL = 0.98
EXCLUDED_TOPICS = frozenset({"depression", "self-harm", "trauma", "domestic-violence", "substance-abuse", "addiction",
                             "eating-disorders", "grief-and-loss", "anger-management", "military-issues"})
"""Counsel Chat topics whose questions may be about risk to self or others: never used as ordinary talk."""
CRISIS_WORDS = re.compile(
    r"suicid|self[- ]?harm|kill|\bdie\b|\bdied\b|dying|\bdead\b|death|overdos|end (?:my|it)|cutting|cut (?:my|her|him)|"
    r"hurt (?:my|him|her|them|someone)|\babus|\brap(?:e|ed|ist)\b|molest|\bgun\b|weapon|knife|pills|"
    r"jump(?:ed|ing)? off|"
    r"hang(?:ed|ing)? (?:my|him|her)|not (?:want|wanna) to (?:live|be here)|wish i (?:was|were)n'?t", re.IGNORECASE)
"""Any of these anywhere in a text keeps it out of the ordinary negatives, whatever its topic."""


@dataclass(frozen=True)
class OrdinaryTexts:
    """Texts that are not talk about suicide, by source, split into training and held-out parts."""

    train: dict[str, list[str]]
    held_out: dict[str, list[str]]


def _ordinary(text: str) -> bool:
    return bool(text.strip()) and not CRISIS_WORDS.search(text)


def training_messages(path: str | Path) -> tuple[list[str], list[str]]:
    """The self-written training chat messages of a crisis-messages YAML: ``(training_everyday,
    training_crisis)`` (the file's evaluation ``messages`` are never read here)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [str(m) for m in data["training_everyday"]], [str(m) for m in data.get("training_crisis", [])]


def held_out_messages(path: str | Path) -> tuple[list[str], list[str]]:
    """The evaluation messages of the ``test`` half of a crisis-messages YAML, for the card only: ``(ordinary,
    suicide_self_harm crisis)`` (the model's one category)."""
    messages = [m for m in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["messages"] if m["split"] == "test"]
    return ([m["text"] for m in messages if m["expect"] == "ordinary"],
            [m["text"] for m in messages if m["expect"] == "crisis" and m["category"] == "suicide_self_harm"])


def ordinary_texts(root: str | Path | None = None, everyday: list[str] | None = None) -> OrdinaryTexts:
    """Out-of-domain negatives: Cognitive Distortion statements, Counsel Chat questions on topics other than
    risk (both filtered by :data:`CRISIS_WORDS`, split as their loaders split them) and ``everyday`` messages
    (all training)."""
    statements = cognitive_distortions.load(root)
    s_train, s_val = cognitive_distortions.split(statements)
    answers = counsel_chat.load(root)
    topics: dict[str, set[str]] = {}
    for a in answers:
        topics.setdefault(a.question_id, set()).add(a.topic)
    questions = {a.question_id: a for a in answers}.values()
    kept = [q for q in questions if not topics[q.question_id] & EXCLUDED_TOPICS and _ordinary(q.question_text)]
    train = {"cognitive_distortions": [r.text for r in s_train if _ordinary(r.text)],
             "counsel_chat": [q.question_text for q in kept if q.split == "train"],
             "everyday": list(everyday or [])}
    held_out = {"cognitive_distortions": [r.text for r in s_val if _ordinary(r.text)],
                "counsel_chat": [q.question_text for q in kept if q.split != "train"]}
    return OrdinaryTexts(train, held_out)


def embed_ordinary(texts: OrdinaryTexts, cache_dir: str | Path | None = None
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Embeddings of :func:`ordinary_texts` (training, held-out), one array per source."""
    return ({k: embed(v, cache_dir=cache_dir) for k, v in texts.train.items()},
            {k: embed(v, cache_dir=cache_dir) for k, v in texts.held_out.items()})


def embedded_users(root: str | Path | None = None, cache_dir: str | Path | None = None
                   ) -> tuple[list[data.RedditUser], list[np.ndarray]]:
    """Every shared user and the embeddings of their posts (one array per user)."""
    users = data.load(root)
    X = embed([p for u in users for p in u.posts], cache_dir=cache_dir)
    bounds = np.cumsum([0] + [len(u.posts) for u in users])
    return users, [X[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def fit_probe(users: list[data.RedditUser], vectors: list[np.ndarray], C: float = 1.0,
              at_risk: np.ndarray | None = None, not_at_risk: np.ndarray | None = None) -> LinearProbe:
    """Stage ``risk``: post-level logistic regression; each user's posts share a total weight of 1, and each
    extra chat message (``at_risk`` / ``not_at_risk`` embeddings) weighs as much as one user."""
    extra = [(x, label) for x, label in ((at_risk, 1), (not_at_risk, 0)) if x is not None and len(x)]
    X = np.vstack([*vectors, *(x for x, _ in extra)])
    y = np.concatenate([*(np.full(len(v), int(u.at_risk)) for u, v in zip(users, vectors, strict=True)),
                        *(np.full(len(x), label) for x, label in extra)])
    w = np.concatenate([*(np.full(len(v), 1.0 / len(v)) for v in vectors), *(np.ones(len(x)) for x, _ in extra)])
    return LinearProbe(C=C).fit(X, y, sample_weight=w * len(y) / w.sum())


def fit_topic(vectors: list[np.ndarray], ordinary: dict[str, np.ndarray], C: float = 1.0,
              crisis_chat: np.ndarray | None = None) -> LinearProbe:
    """Stage ``topic``: suicide talk against ordinary texts. Positives are the forum posts (each user weighing
    the same) and, when given, crisis chat messages (weighing as much as all the posts together); negatives are
    the ordinary sources, each source weighing the same; both classes weigh half of the examples."""
    users = [v for v in vectors if len(v)]
    positives = [np.concatenate([np.full(len(v), 1.0 / (len(v) * len(users))) for v in users])]
    if crisis_chat is not None and len(crisis_chat):
        positives.append(np.full(len(crisis_chat), 1.0 / len(crisis_chat)))
    sources = [x for x in ordinary.values() if len(x)]
    pos = np.concatenate(positives) / len(positives)
    neg = np.concatenate([np.full(len(x), 1.0 / (len(x) * len(sources))) for x in sources])
    X = np.vstack([*users, *([crisis_chat] if len(positives) > 1 else []), *sources])
    y = np.concatenate([np.ones(len(pos), int), np.zeros(len(neg), int)])
    w = np.concatenate([pos, neg]) * len(y) / 2
    return LinearProbe(C=C, class_weight=None).fit(X, y, sample_weight=w)


def user_scores(model: CrisisModel, vectors: list[np.ndarray]) -> np.ndarray:
    """Each user's highest post score."""
    return np.array([model.probabilities(v).max() if len(v) else 0.0 for v in vectors])


def recall_threshold(scores: np.ndarray, at_risk: np.ndarray, target: float = TARGET_RECALL) -> float:
    """The highest threshold whose recall on at-risk users is at least ``target``."""
    positives = np.sort(scores[at_risk])
    allowed_misses = int(np.floor((1.0 - target) * len(positives) + 1e-9))
    return float(positives[allowed_misses])


def level_rates(flags: np.ndarray, labels: list[str]) -> dict[str, dict]:
    """Share of users flagged per C-SSRS level (recall for at-risk levels, false-positive rate for Supportive)."""
    labels_a = np.array(labels)
    out = {}
    for level in data.LABELS:
        mask = labels_a == level
        out[level] = {"n": int(mask.sum()), "flagged": int(flags[mask].sum()),
                      "rate": float(flags[mask].mean()) if mask.any() else float("nan")}
    risk = np.isin(labels_a, data.AT_RISK)
    out["Ideation+Behavior+Attempt"] = {"n": int(risk.sum()), "flagged": int(flags[risk].sum()),
                                        "rate": float(flags[risk].mean())}
    return out


def _ci(fn, *arrays, n_boot: int) -> tuple[float, float, float]:
    e = bootstrap_ci(fn, *arrays, n_boot=n_boot, seed=11)
    return e.value, e.low, e.high


@dataclass(frozen=True)
class _Evaluation:
    """What the card reports: validation users' scores and labels, held-out ordinary texts' scores."""

    scores: np.ndarray
    labels: list[str]
    ordinary: np.ndarray
    n_train: int
    n_ordinary_train: dict[str, int]
    n_crisis_chat: int
    chat_ordinary: np.ndarray
    chat_crisis: np.ndarray


def _source(name: str, n: int, label: str | None = None) -> DataSource:
    info = DATASETS[name]
    return DataSource(name=label or info.name, citation=info.citation, licence=info.licence, n=max(n, 1))


def _card(model: CrisisModel, ev: _Evaluation, n_boot: int) -> ModelCard:
    from sklearn.metrics import roc_auc_score

    n_train = ev.n_ordinary_train
    train = [_source("reddit_cssrs", ev.n_train, DATASET),
             _source("cognitive_distortions", n_train["cognitive_distortions"],
                     "Cognitive distortion statements (Shreevastava & Foltz), training 80%, crisis words removed"),
             _source("counsel_chat", n_train["counsel_chat"],
                     "Counsel Chat questions, train split, topics other than risk, crisis words removed")]
    if n_train["everyday"]:
        train.append(DataSource(name="Self-written everyday health-assistant messages (benchmarks/data/"
                                     "crisis_messages.yaml, training_everyday)", citation="medai contributors",
                                licence="Apache-2.0", n=n_train["everyday"]))
    if ev.n_crisis_chat:
        train.append(DataSource(name="Self-written chat messages about suicide or self-harm (benchmarks/data/"
                                     "crisis_messages.yaml, training_crisis)", citation="medai contributors",
                                licence="Apache-2.0", n=ev.n_crisis_chat))
    val = _source("reddit_cssrs", len(ev.labels), f"{DATASET}, validation users")
    held = DataSource(name="Held-out ordinary texts: cognitive distortion validation 20% + Counsel Chat val questions "
                           "(filtered as in training)", citation=DATASETS["cognitive_distortions"].citation + "; "
                      + DATASETS["counsel_chat"].citation, licence="see the two training sources", n=len(ev.ordinary))
    labels_a = np.array(ev.labels)
    at_risk = np.isin(labels_a, data.AT_RISK)
    flags, stops = ev.scores >= model.threshold, ev.scores >= model.moderate_threshold
    split = "validation users (25%, stratified by C-SSRS level, split by user)"
    rows = [("Recall at 'low', Ideation/Behavior/Attempt users (model alone)", flags[at_risk], val, split),
            ("Recall at 'moderate', Ideation/Behavior/Attempt users (model alone)", stops[at_risk], val, split),
            ("False-positive rate at 'low', Supportive users (model alone)", flags[labels_a == "Supportive"], val,
             split),
            ("False-positive rate at 'moderate', Supportive users (model alone)", stops[labels_a == "Supportive"], val,
             split),
            ("Share flagged at 'low', held-out ordinary texts (model alone)", ev.ordinary >= model.threshold, held,
             "held-out splits of the two ordinary sources")]
    chat = DataSource(name="Self-written chat messages (benchmarks/data/crisis_messages.yaml, messages), test half",
                      citation="medai contributors", licence="Apache-2.0",
                      n=max(len(ev.chat_ordinary) + len(ev.chat_crisis), 1))
    if len(ev.chat_ordinary):
        rows.append(("Share flagged at 'low', ordinary chat messages (model alone)",
                     ev.chat_ordinary >= model.threshold, chat, "test half"))
    if len(ev.chat_crisis):
        rows.append(("Share flagged at 'low', suicide/self-harm chat messages (model alone)",
                     ev.chat_crisis >= model.threshold, chat, "test half"))
    metrics = [Metric(name=name, value=v, ci_low=lo, ci_high=hi, dataset=ds.name, split=sp)
               for name, f, ds, sp in rows for v, lo, hi in [_ci(lambda f: f.mean(), f, n_boot=n_boot)]]
    auc = _ci(lambda s, y: roc_auc_score(y, s), ev.scores, at_risk, n_boot=n_boot)
    metrics.append(Metric(name="AUROC, at-risk vs not (user = max post)", value=auc[0], ci_low=auc[1], ci_high=auc[2],
                          dataset=val.name, split=split))
    rates = level_rates(flags, ev.labels)
    subgroups = [SubgroupResult(attribute="C-SSRS level", group=level, n=rates[level]["n"],
                                metric="share flagged at 'low'", value=rates[level]["rate"])
                 for level in data.LABELS if rates[level]["n"]]
    return ModelCard(
        name=MODEL_NAME, version=VERSION, task="Crisis screen: suicide risk in a user's message (learned half)",
        summary="Two logistic probes on all-MiniLM-L6-v2 sentence embeddings: 'topic' (suicide-forum posts against "
                "ordinary texts: therapy-forum questions on other topics, patient statements, self-written everyday "
                "health-assistant messages) and 'risk' (Reddit users labelled on the Columbia scale by user; positive: "
                "Ideation, Behavior, Attempt). Score = P(topic) x P(risk | topic). Runs beside the crisis lexicon; "
                "the screen takes the higher risk of the two.",
        intended_use="One half of the assistant's always-on crisis screen: raise (never lower) the risk of a message "
                     "so crisis resources are shown ('low') or the conversation stops and a human is offered "
                     "('moderate').",
        out_of_scope_use=["Ruling out suicide risk (a negative result is not reassurance)",
                          "Clinical risk assessment or diagnosis", "Use without the rule lexicon"],
        training_data=train, evaluation_data=[val, held, *([chat] if chat.n > 1 else [])], metrics=metrics,
        subgroups=subgroups,
        operating_point=OperatingPoint(threshold=model.threshold, sensitivity=float(flags[at_risk].mean()),
                                       rationale=f"Highest threshold with user-level recall >= {TARGET_RECALL} on the "
                                                 f"validation users' Ideation/Behavior/Attempt authors (chosen on that "
                                                 f"split, so the recall figure is optimistic); at this threshold the "
                                                 f"model says 'low' (resources shown, the flow goes on); 'moderate' "
                                                 f"(stops the flow) from {model.moderate_threshold:.3f}."),
        limitations=["The recall target is met at 'low' only (resources shown, no stop); at 'moderate' (the flow "
                     "stops) recall on at-risk users is lower (see the metrics). Stopping on short explicit messages "
                     "relies on the lexicon.",
                     "Stage 'risk' is weak (AUROC above): labels are per user, not per post, and Supportive users "
                     "write about suicide to others, so many of them are flagged.",
                     "Stage 'topic' learned suicide-forum posts and a few dozen self-written chat messages against "
                     "other texts; indirect suicidal wording in chat often scores below the threshold (see the chat "
                     "metrics), and the model knows nothing of abuse, harm to others or medical emergencies (the "
                     "lexicon covers those).",
                     "The chat-message figures use messages written by the same author as the self-written training "
                     "messages (close paraphrases left out), so they are optimistic for other people's wording.",
                     "Reddit posts from 2005-2016 and ordinary texts in English only.",
                     f"The threshold was chosen on {int(at_risk.sum())} validation at-risk users; held-back recall may "
                     "be lower."],
        ethical_considerations="Trained on public posts describing self-harm; no text is shipped. A missed crisis "
                               "costs far more than a false alarm, so the threshold favours recall.",
        authors=["medai contributors"],
        licence=f"Apache-2.0 (model); training data: {DATASETS['reddit_cssrs'].licence}; "
                f"{DATASETS['cognitive_distortions'].licence}; {DATASETS['counsel_chat'].licence}",
        created=datetime.now(UTC), medai_version=__version__)


def fit_model(users: list[data.RedditUser], vectors: list[np.ndarray], ordinary: dict[str, np.ndarray],
              validation: list[data.RedditUser], val_vectors: list[np.ndarray], C: float = 1.0,
              crisis_chat: np.ndarray | None = None) -> CrisisModel:
    """Fit both stages on the training users, ordinary texts and crisis chat messages (the everyday ones are
    also stage ``risk`` negatives); thresholds from the validation users."""
    risk = fit_probe(users, vectors, C=C, at_risk=crisis_chat, not_at_risk=ordinary.get("everyday"))
    model = CrisisModel(risk, 0.0, 0.0, topic=fit_topic(vectors, ordinary, C=C, crisis_chat=crisis_chat))
    at_risk = np.array([u.at_risk for u in validation])
    threshold = recall_threshold(user_scores(model, val_vectors), at_risk)
    negatives = np.concatenate([model.probabilities(v) for u, v in zip(users, vectors, strict=True)
                                if not u.at_risk and len(v)])
    return CrisisModel(model.probe, threshold, max(threshold, float(np.quantile(negatives, 0.99))), topic=model.topic)


def train_and_package(root: str | Path | None, out: str | Path, cache_dir: str | Path | None = None,
                      log: Callable[[str], None] = print, n_boot: int = 1000, C: float = 1.0,
                      messages: str | Path | None = None) -> tuple[Path, CrisisModel]:
    """Fit on the training users and ordinary texts (``messages``: a crisis-messages YAML whose training chat
    messages join them, see :func:`training_messages`), set thresholds on the validation users, save to ``out``."""
    users, vectors = embedded_users(root, cache_dir)
    train, validation = data.split(users)
    where = {u.user: i for i, u in enumerate(users)}
    train_v = [vectors[where[u.user]] for u in train]
    val_v = [vectors[where[u.user]] for u in validation]
    chat_everyday, chat_crisis = training_messages(messages) if messages else ([], [])
    texts = ordinary_texts(root, chat_everyday)
    ordinary, held_out = embed_ordinary(texts, cache_dir)
    crisis_chat = embed(chat_crisis, cache_dir=cache_dir)
    model = fit_model(train, train_v, ordinary, validation, val_v, C=C, crisis_chat=crisis_chat)
    chat_ordinary, chat_suicide = held_out_messages(messages) if messages else ([], [])
    ev = _Evaluation(user_scores(model, val_v), [u.label for u in validation],
                     np.concatenate([model.probabilities(x) for x in held_out.values() if len(x)]), len(train),
                     {k: len(v) for k, v in texts.train.items()}, len(chat_crisis),
                     model.probabilities(embed(chat_ordinary, cache_dir=cache_dir)),
                     model.probabilities(embed(chat_suicide, cache_dir=cache_dir)))
    card = _card(model, ev, n_boot)
    log(f"crisis: train {len(train)} users + {sum(ev.n_ordinary_train.values())} ordinary texts, validation "
        f"{len(validation)}; threshold {model.threshold:.4f}, moderate {model.moderate_threshold:.4f}")
    package = save_package(out, card, package_files(model))
    return package.path, CrisisModel(model.probe, model.threshold, model.moderate_threshold, package, model.topic)
