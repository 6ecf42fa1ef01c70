"""Train, export and calibrate qa's extractive reader from the public SQuAD dev files.

    python tools/train_reader.py train      # fine-tune MiniLM-L6 (≈ 1 h on 2 cores), checkpoints in build/reader/
    python tools/train_reader.py export     # ONNX, int8 (onnxruntime dynamic quantisation) → qa/models/reader/
    python tools/train_reader.py calibrate  # abstention margin + confidence model on the validation articles
    python tools/train_reader.py pipeline   # all of it, then the best candidate on the test articles (ships nothing)
    python tools/train_reader.py depth      # validation F1 when reading only the top k passages

Needs the training extra: pip install -e ".[train]" (torch is already a dependency).

Data: ../shared/bench SQuAD v1.1 dev and v2.0 dev (or QA_BENCH_DIR), split **by article**
(`qa.eval.squad_split`): the v2.0 articles 1-24 in file order plus the 13 v1.1-only articles train,
v2.0 articles 25-28 validate (checkpoint choice, calibration), v2.0 articles 29-35 are the test
split every reported number comes from. Nothing from tests/data or seeds/ is read.

Why shared normalisation: a question is read with the gold paragraph *and* the distractor
paragraphs retrieval gives it (BM25 + dense, fused as qa fuses them, over the training
articles only), and the start/end softmax runs over all their tokens together, with every
window's [CLS] meaning "no answer". Unanswerable questions and groups of distractors only
(the gold paragraph left out) teach the null score to mean "none of these passages answers it".
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answers.reader import CALIBRATION_FILE, MODEL_DIR, MODEL_FILE, Window, load_tokenizer, pad_batch, windows_for  # noqa: E402
from qa.eval import squad_split  # noqa: E402

BUILD = ROOT / "build" / "reader"
SEED = 13
# a candidate may lose at most this much open-retrieval validation F1 against the shipped model
# (≈ one standard error on the 1,456 validation questions; the gate of stops 27 and 28)
OPEN_F1_ALLOWED_LOSS = 1.0


def log(msg: str) -> None:
    """Progress goes to stderr, so a command's JSON report alone is on stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ warm start


def dequantized_state(path: Path) -> dict[str, np.ndarray]:
    """The weights of an int8 reader file as the fp32 tensors BertForQuestionAnswering loads.

    Why: build/ does not outlive a session, so the shipped ONNX file is the only copy of the
    trained reader, and a longer training can only be had by continuing from it
    (`train --init-from`). Dynamic int8 quantisation stores each weight as
    (q - zero_point) × scale: dequantising gives back the very weights the shipped file
    computes with (its activations are quantised on the fly), not a guess at a lost checkpoint."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def dequantise(name: str) -> np.ndarray:
        q = inits[f"{name}_quantized"].astype(np.float32)
        return (q - inits[f"{name}_zero_point"].astype(np.float32)) * inits[f"{name}_scale"].astype(np.float32)

    # biases and LayerNorm stay fp32 under their module names; the quantised embedding tables
    # keep theirs; a MatMul weight is named by its node (…/query/MatMul_quant) and stored (in, out)
    state = {k: v.copy() for k, v in inits.items() if v.dtype == np.float32 and v.ndim and not k.startswith(("onnx::", "/"))}
    for k in inits:
        if k.startswith("bert.embeddings.") and k.endswith("_quantized"):
            state[k.removesuffix("_quantized")] = dequantise(k.removesuffix("_quantized"))
    for node in graph.node:
        if node.op_type == "MatMulInteger":
            module = node.name.strip("/").removesuffix("/MatMul_quant").replace("/", ".")
            state[f"{module}.weight"] = np.ascontiguousarray(dequantise(node.input[1].removesuffix("_quantized")).T)
    return state


# ------------------------------------------------------------------ distractors


def hybrid_neighbours(paragraphs: list[dict], questions: list[dict], depth: int = 12) -> dict[str, list[str]]:
    """For each question, the pids of its top paragraphs by RRF(BM25, dense) — qa's own fusion."""
    from qa.answers.retrieve import fuse
    from qa.index.encoders import load_encoder
    from qa.index.lexical import Bm25Index

    texts = [p["text"] for p in paragraphs]
    bm25 = Bm25Index.build(texts)
    enc = load_encoder("onnx-int8")
    log(f"embedding {len(texts)} paragraphs and {len(questions)} questions for distractors")
    pv = enc.encode(texts, batch_size=8)
    qv = enc.encode([q["question"] for q in questions], batch_size=32)
    dense = qv @ pv.T
    out: dict[str, list[str]] = {}
    for qi, q in enumerate(questions):
        s = bm25.scores(q["question"])
        b = np.argsort(-s, kind="stable")[:50]
        d = np.argsort(-dense[qi], kind="stable")[:50]
        fused = fuse({"bm25": [(int(i), float(s[i])) for i in b if s[i] > 0], "dense": [(int(i), float(dense[qi, i])) for i in d]})
        out[q["id"]] = [paragraphs[i]["pid"] for i, _ in fused[:depth]]
    return out


# ------------------------------------------------------------------ examples


def token_target(w: Window, a: int, b: int) -> tuple[int, int] | None:
    """Token (start, end) of chars [a, b) inside window w, or None when w does not hold them."""
    if not w.ctx_start < w.ctx_end:
        return None
    if w.offsets[w.ctx_start][0] > a or w.offsets[w.ctx_end - 1][1] < b:
        return None
    ts = next((t for t in range(w.ctx_start, w.ctx_end) if w.offsets[t][1] > a), None)
    te = next((t for t in range(w.ctx_end - 1, w.ctx_start - 1, -1) if w.offsets[t][0] < b), None)
    if ts is None or te is None or te < ts:
        return None
    return ts, te


# a name or a number inside a question: "Denver", "1066", "5,822" (not the question's first word)
_NAME_OR_NUMBER = re.compile(r"(?<=\s)(?:[A-Z][\w'’.-]*[\w]|[A-Z]|\d[\d,.]*\d|\d)")


def name_pool(paragraphs: list[dict]) -> dict[str, list[str]]:
    """Per article, the names (capitalised words never written in lower case anywhere in the
    paragraphs, so not "However" at a sentence's start) and the numbers its paragraphs use."""
    lower = {w for p in paragraphs for w in re.findall(r"\b[a-z][\w'’-]*", p["text"])}
    pool: dict[str, set[str]] = {}
    for p in paragraphs:
        words = (m.group() for m in _NAME_OR_NUMBER.finditer(p["text"]))
        pool.setdefault(p["title"], set()).update(w for w in words if w[0].isdigit() or w.lower() not in lower)
    return {t: sorted(words) for t, words in sorted(pool.items())}


def _shape(word: str) -> str:
    """"1066" and "1812" share a shape, "1,294" has another: a year is swapped for a year."""
    return re.sub(r"\d", "9", word) if word[0].isdigit() else "name"


def swapped_question(q: dict, paragraph: str, pool: dict[str, list[str]], rng: random.Random, same_article: bool = False) -> str | None:
    """An answerable question made unanswerable by its paragraph: one name or number of the
    question that the paragraph holds is replaced by one of the same kind from another article
    that the paragraph never mentions ("When did the Normans conquer England?" → "… conquer
    Warsaw?"). Why: SQuAD v2.0's unanswerable questions are mostly such near misses, the
    reader's weakest point is telling "about the question" from "answers it", and the
    training articles hold only 3.8k of them. None when the question has no such word.

    `same_article`: the new word comes from another paragraph of the question's own article
    when one fits ("… conquer Sicily?"): a name the topic makes plausible, the harder near miss
    (a role held by one party asked of another), as SQuAD v2.0's writers made them."""
    low = paragraph.lower()
    spots = [m for m in _NAME_OR_NUMBER.finditer(q["question"]) if m.group().lower() in low]
    if not spots:
        return None
    m = rng.choice(spots)
    if same_article:
        near = [w for w in pool.get(q["title"], []) if _shape(w) == _shape(m.group()) and w.lower() not in low]
        if near:
            return q["question"][: m.start()] + rng.choice(near) + q["question"][m.end() :]
    others = [t for t in pool if t != q["title"]]
    for _ in range(50):
        words = pool[rng.choice(others)]
        if not words:
            continue
        w = rng.choice(words)
        if _shape(w) == _shape(m.group()) and w.lower() not in low and w.lower() != m.group().lower():
            return q["question"][: m.start()] + w + q["question"][m.end() :]
    return None


# Opposites a question can be turned on ("the largest city" → "the smallest city"): the word
# put in first, then every word whose presence in the paragraph could still answer it. General
# English, not taken from any question; temporal "before/after" and "more/less" are left out
# (a paragraph's order or a difference can answer those without the word).
_OPPOSITES: dict[str, tuple[str, ...]] = {}
for _a, _b in (
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"),
    ("longest", "shortest"), ("oldest", "youngest"), ("earliest", "latest"), ("most", "least"),
    ("maximum", "minimum"), ("best", "worst"), ("strongest", "weakest"), ("richest", "poorest"),
    ("fastest", "slowest"), ("heaviest", "lightest"), ("larger", "smaller"), ("higher", "lower"),
    ("longer", "shorter"), ("older", "younger"), ("increase", "decrease"), ("increased", "decreased"),
    ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"),
    ("upper", "lower"), ("major", "minor"), ("majority", "minority"), ("won", "lost"),
    ("win", "lose"), ("legal", "illegal"), ("public", "private"), ("internal", "external"),
    ("import", "export"), ("imports", "exports"), ("accepted", "rejected"), ("supported", "opposed"),
    ("ancient", "modern"), ("success", "failure"), ("positive", "negative"), ("inner", "outer"),
):
    _OPPOSITES.setdefault(_a, (_b,))
    _OPPOSITES.setdefault(_b, (_a,))
_OPPOSITES["first"] = ("last", "final", "latest")
_OPPOSITES["last"] = ("first", "earliest")
# lower case only (a capitalised "East", "Lost", "Last" is mostly part of a name: "Middle East"),
# and "most"/"least" only as a degree ("the most widely read"), not a quantity ("most plants");
# not the first half of a compound ("modern-day") or a contraction ("won't")
_OPPOSITE_WORD = re.compile(r"\b(?:(?<=the )(?:most|least)|" + "|".join(sorted(set(_OPPOSITES) - {"most", "least"}, key=len, reverse=True)) + r")\b(?![-'’])")


def opposite_question(q: dict, paragraph: str, rng: random.Random) -> str | None:
    """An answerable question turned on its opposite, which its paragraph does not state: a
    word of the question that the paragraph uses is replaced by its opposite, and no word that
    could answer the new question is in the paragraph ("Which is the largest city?" → "… the
    smallest city?"). Why: antonyms are the second most common kind of SQuAD v2.0's
    unanswerable questions (Rajpurkar et al. 2018, about a fifth) and the swapped names of
    `swapped_question` do not teach it. None when the question has no such word."""
    words = set(re.findall(r"[a-z]+", paragraph.lower()))
    spots = [m for m in _OPPOSITE_WORD.finditer(q["question"]) if m.group() in words and not words & set(_OPPOSITES[m.group()])]
    if not spots:
        return None
    m = rng.choice(spots)
    return q["question"][: m.start()] + _OPPOSITES[m.group()][0] + q["question"][m.end() :]


def make_groups(questions: list[dict], para_text: dict[str, str], neighbours: dict[str, list[str]], rng: random.Random, distractors: int, only_distractor_rate: float, distractor_rate: float, swap_rate: float = 0.0, pool: dict[str, list[str]] | None = None, opposite_rate: float = 0.0, same_article_rate: float = 0.0) -> list[dict]:
    """One training group per question (windows, and each window's answer targets), and for a
    `swap_rate` share of the answerable ones a second group: the question with a name or number
    swapped (`swapped_question`), read with its own paragraph, target "no answer"; likewise for
    an `opposite_rate` share, the question turned on its opposite (`opposite_question`); a
    `same_article_rate` share of the swaps takes its new word from the question's own article.
    (Each kind draws from `rng` only when its rate is set: a seed's earlier groups stay as they were.)"""
    tok = load_tokenizer()
    groups = []

    def group(wins: list[Window], targets: list[tuple[int, int, int]], **kind: bool) -> dict:
        return {"windows": wins, "targets": targets, "len": sum(len(w.ids) for w in wins), **kind}

    for q in questions:
        gold = para_text[q["pid"]]
        if pool and not q["is_impossible"] and rng.random() < swap_rate:
            swapped = swapped_question(q, gold, pool, rng, same_article=bool(same_article_rate) and rng.random() < same_article_rate)
            if swapped:
                groups.append(group(windows_for(tok, swapped, [gold]), [], swapped=True))
        if opposite_rate and not q["is_impossible"] and rng.random() < opposite_rate:
            turned = opposite_question(q, gold, rng)
            if turned:
                groups.append(group(windows_for(tok, turned, [gold]), [], opposite=True))
        answers = [] if q["is_impossible"] else list(zip(q["answers"], q["answer_starts"], strict=True))
        norm_answers = [squad_split.normalize(t) for t, _ in answers]
        cands = [p for p in neighbours.get(q["id"], []) if p != q["pid"]]
        # a distractor that contains a gold answer might answer the question: keep it out
        cands = [p for p in cands if not any(n and n in squad_split.normalize(para_text[p]) for n in norm_answers)]
        drop_gold = bool(answers) and rng.random() < only_distractor_rate and len(cands) >= distractors + 1
        n = distractors if rng.random() < distractor_rate else 0
        chosen = cands[: max(n, 1) + (1 if drop_gold else 0)] if drop_gold else cands[:n]
        texts = ([] if drop_gold else [gold]) + [para_text[p] for p in chosen]
        wins = windows_for(tok, q["question"], texts)
        targets = []
        if answers and not drop_gold:
            text, a = answers[0]
            b = a + len(text)
            for wi, w in enumerate(wins):
                if w.passage == 0:
                    t = token_target(w, a, b)
                    if t:
                        targets.append((wi, t[0], t[1]))
        groups.append(group(wins, targets))
    return groups


# ------------------------------------------------------------------ training


def group_loss(torch, start, end, rows: list[int], windows: list[Window], targets: list[tuple[int, int, int]]):
    """−log P(start) − log P(end) under one softmax over every valid token of the group."""
    ls, le, pos_s, pos_e, null_pos = [], [], [], [], []
    offset = 0
    for r, w in zip(rows, windows, strict=True):
        idx = [0, *range(w.ctx_start, w.ctx_end)]
        ls.append(start[r, idx])
        le.append(end[r, idx])
        null_pos.append(offset)
        for wi, ts, te in targets:
            if windows[wi] is w:
                pos_s.append(offset + 1 + ts - w.ctx_start)
                pos_e.append(offset + 1 + te - w.ctx_start)
        offset += len(idx)
    s = torch.log_softmax(torch.cat(ls), dim=0)
    e = torch.log_softmax(torch.cat(le), dim=0)
    ps, pe = (pos_s, pos_e) if pos_s else (null_pos, null_pos)
    return -(torch.logsumexp(s[ps], 0) + torch.logsumexp(e[pe], 0))


def make_optimizer(torch, model, lr: float):  # type: ignore[no-untyped-def]
    """AdamW, weight decay 0.01 except on biases and LayerNorm."""
    decay = [p for n, p in model.named_parameters() if not any(k in n for k in ("bias", "LayerNorm"))]
    other = [p for n, p in model.named_parameters() if any(k in n for k in ("bias", "LayerNorm"))]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": other, "weight_decay": 0.0}], lr=lr)


def train_step(torch, model, opt, groups: list[dict], batch: list[int]) -> float:  # type: ignore[no-untyped-def]
    """One optimizer step on a batch of groups (the mean group loss, halved: start and end);
    returns the loss."""
    wins = [w for i in batch for w in groups[i]["windows"]]
    out = model(**{k: torch.from_numpy(v) for k, v in pad_batch(wins).items()})
    loss = 0.0
    r = 0
    for i in batch:
        g = groups[i]
        n = len(g["windows"])
        loss = loss + group_loss(torch, out.start_logits, out.end_logits, list(range(r, r + n)), g["windows"], g["targets"])
        r += n
    loss = loss / len(batch) / 2
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()
    return loss.item()


def train(args: argparse.Namespace) -> list[Path]:
    """Fine-tune; returns the checkpoints saved, in step order (the last is `final`)."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    from qa.index.encoders import bundled_model_dir

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    data = squad_split.load(args.bench)
    train_q = data.questions("train")
    if args.limit:
        train_q = rng.sample(train_q, args.limit)
    train_paras = data.paragraphs("train")
    log(f"train: {len(train_q)} questions ({sum(q['is_impossible'] for q in train_q)} unanswerable), {len(train_paras)} paragraphs")
    BUILD.mkdir(parents=True, exist_ok=True)
    cache = BUILD / "neighbours-train.json"
    if cache.is_file():
        neighbours = json.loads(cache.read_text())
    elif args.limit:  # a smoke run: the sampled questions' neighbours only, not cached
        neighbours = hybrid_neighbours(train_paras, train_q)
    else:
        neighbours = hybrid_neighbours(train_paras, data.questions("train"))
        cache.write_text(json.dumps(neighbours))
    pool = name_pool(train_paras) if args.swap_rate else None
    groups = make_groups(train_q, data.para_text, neighbours, rng, args.distractors, args.only_distractors, args.distractor_rate, args.swap_rate, pool, args.opposite_rate, args.same_article_rate)
    log(f"{len(groups)} groups, {sum(len(g['windows']) for g in groups)} windows, {sum(not g['targets'] for g in groups)} with no answer, {sum(bool(g.get('swapped')) for g in groups)} of them swapped questions, {sum(bool(g.get('opposite')) for g in groups)} opposite ones")

    model = AutoModelForQuestionAnswering.from_pretrained(bundled_model_dir())
    if args.init_from:
        state = dequantized_state(Path(args.init_from))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        log(f"continuing from {args.init_from} ({len(state)} tensors, dequantised)")
    model.train()
    opt = make_optimizer(torch, model, args.lr)

    # batches of groups of similar size (less padding), in a seeded random order
    order = list(range(len(groups)))
    batches = []
    # each epoch is shuffled on its own, so a run cut short by --max-steps has seen every
    # question of its first epoch once before any question a second time
    for epoch in range(args.epochs):
        rng.shuffle(order)
        ep_batches = []
        for c in range(0, len(order), args.groups * 50):
            chunk = sorted(order[c : c + args.groups * 50], key=lambda i: groups[i]["len"])
            ep_batches += [chunk[i : i + args.groups] for i in range(0, len(chunk), args.groups)]
        rng.shuffle(ep_batches)
        batches += ep_batches
    total = len(batches) if not args.max_steps else min(args.max_steps, len(batches))
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    saves = {int(total * f) for f in args.save_at}
    started = time.perf_counter()
    running = 0.0
    saved: list[Path] = []
    for step, batch in enumerate(batches[:total], start=1):
        loss = train_step(torch, model, opt, groups, batch)
        sched.step()
        running = 0.98 * running + 0.02 * loss if step > 1 else loss
        if step % 20 == 0 or step == total:
            el = time.perf_counter() - started
            log(f"step {step}/{total} loss {running:.3f} lr {sched.get_last_lr()[0]:.2e} {el / step:.2f} s/step eta {el / step * (total - step) / 60:.1f} min")
        if step in saves or step == total:
            target = BUILD / f"checkpoint-{step}"
            model.save_pretrained(target)
            saved.append(target)
            log(f"saved {target}")
    (BUILD / "final").unlink(missing_ok=True)
    (BUILD / "final").symlink_to(f"checkpoint-{total}")
    (BUILD / "train-args.json").write_text(json.dumps({**vars(args), "bench": str(args.bench), "steps": total}, indent=1))
    return saved



# ------------------------------------------------------------------ a resumable pass over SQuAD train

TRAIN_FILE = "squad-train-v1.1.json"
WARMUP_SHARE = 0.06


def default_run_dir() -> Path:
    """Checkpoints of a long run live in the user's cache folder, outside the repository: a
    pass outlasts a session, and the work tree is laid anew while the machine is kept."""
    import platformdirs

    return platformdirs.user_cache_path("qa") / "reader-train" / "full-pass"


def full_training_set(bench: Path | None) -> tuple[list[dict], list[dict]]:
    """(questions, paragraphs): SQuAD v1.1 train (432 articles, every question answerable)
    and the SQuAD dev *training* articles (`squad_split`, with v2.0's real unanswerable
    questions). Train articles are titled "train:<title>" so no name can meet a dev one.
    Nothing of the validation or test articles is read."""
    root = squad_split.bench_dir(bench)
    path = root / TRAIN_FILE
    if not path.is_file():
        raise SystemExit(f"{path} not found (set --bench or QA_BENCH_DIR)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in raw["data"]:
        title = f"train:{article['title']}"
        for pi, p in enumerate(article["paragraphs"]):
            pid = f"{title}__{pi:03d}"
            paragraphs.append({"pid": pid, "title": title, "text": p["context"]})
            for q in p["qas"]:
                answers = q.get("answers") or []
                questions.append(
                    {
                        "id": q["id"],
                        "question": q["question"],
                        "answers": [a["text"] for a in answers],
                        "answer_starts": [a["answer_start"] for a in answers],
                        "is_impossible": bool(q.get("is_impossible")) or not answers,
                        "title": title,
                        "pid": pid,
                    }
                )
    dev = squad_split.load(bench)
    paragraphs += dev.paragraphs("train")
    questions += dev.questions("train")
    return questions, paragraphs


def chunk_neighbours(paragraphs: list[dict], questions: list[dict], depth: int = 12, block: int = 1024) -> dict[str, list[str]]:
    """`hybrid_neighbours` for a corpus too large for one question × paragraph matrix: the
    same fusion, dense scores a block of questions at a time, top 50 of each list by partition."""
    from qa.answers.retrieve import fuse
    from qa.index.encoders import load_encoder
    from qa.index.lexical import Bm25Index

    texts = [p["text"] for p in paragraphs]
    bm25 = Bm25Index.build(texts)
    enc = load_encoder("onnx-int8")
    log(f"embedding {len(texts)} paragraphs for distractors")
    parts = []
    for s in range(0, len(texts), 2000):
        parts.append(enc.encode(texts[s : s + 2000], batch_size=16))
        log(f"embedded {min(s + 2000, len(texts))}/{len(texts)} paragraphs")
    pv = np.concatenate(parts)
    out: dict[str, list[str]] = {}

    def top(scores: np.ndarray, n: int = 50) -> np.ndarray:
        n = min(n, len(scores))
        part = np.argpartition(-scores, n - 1)[:n]
        return part[np.lexsort((part, -scores[part]))]

    for start in range(0, len(questions), block):
        chunk = questions[start : start + block]
        qv = enc.encode([q["question"] for q in chunk], batch_size=64)
        dense = qv @ pv.T
        for qi, q in enumerate(chunk):
            s = bm25.scores(q["question"])
            b = top(s)
            d = top(dense[qi])
            fused = fuse({"bm25": [(int(i), float(s[i])) for i in b if s[i] > 0], "dense": [(int(i), float(dense[qi, i])) for i in d]})
            out[q["id"]] = [paragraphs[i]["pid"] for i, _ in fused[:depth]]
        log(f"distractors: {min(start + block, len(questions))}/{len(questions)} questions")
    return out


def lr_factor(progress: float) -> float:
    """Linear warm-up over the first 6 % of the pass, then linear decay to 0 at its end —
    as a function of the share of questions read, so a resumed run follows the same curve."""
    if progress < WARMUP_SHARE:
        return max(progress / WARMUP_SHARE, 1e-3)
    return max(0.0, (1.0 - progress) / (1.0 - WARMUP_SHARE))


def pass_plan(n_questions: int, epochs: int, seed: int, chunk: int) -> list[tuple[int, int, list[int]]]:
    """(epoch, chunk number, question indices) for the whole run, fixed by the seed: each
    epoch is its own shuffle, cut into chunks whose groups are made only when reached (a pass
    of 95k questions does not fit in memory as tokenised windows)."""
    plan = []
    for epoch in range(epochs):
        order = list(range(n_questions))
        random.Random(f"{seed}-order-{epoch}").shuffle(order)
        for c, s in enumerate(range(0, n_questions, chunk)):
            plan.append((epoch, c, order[s : s + chunk]))
    return plan


def chunk_batches(groups: list[dict], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of `size` groups of similar length (less padding), in a seeded random order."""
    order = sorted(range(len(groups)), key=lambda i: (groups[i]["len"], i))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


RECIPE_KEYS = ("lr", "epochs", "groups", "distractors", "distractor_rate", "only_distractors", "swap_rate", "same_article_rate", "opposite_rate", "seed", "init_from", "limit")


def full_pass(args: argparse.Namespace) -> Path:
    """Train over SQuAD v1.1 train + the dev training articles, resumably.

    Every `--save-every` steps the full-precision weights, the optimizer and scheduler
    position, torch's random state and the place in the data go to `--run-dir` (written
    beside, then renamed over the last one: a kill mid-save keeps the previous state). A run
    that finds that state goes on from it, with the same data order; a run dir holding
    another recipe is refused. Weights are also kept every `--keep-every` steps as
    `step-N/` for export and validation. Returns the run dir."""
    import shutil
    import signal

    import torch
    from transformers import AutoModelForQuestionAnswering

    from qa.index.encoders import bundled_model_dir

    run = Path(args.run_dir).expanduser() if args.run_dir else default_run_dir()
    run.mkdir(parents=True, exist_ok=True)
    recipe = {k: getattr(args, k) for k in RECIPE_KEYS}
    recipe["init_from_sha256"] = None
    if args.init_from:
        import hashlib

        recipe["init_from_sha256"] = hashlib.sha256(Path(args.init_from).read_bytes()).hexdigest()
        recipe["init_from"] = str(Path(args.init_from).name)
    recipe_file = run / "recipe.json"
    if recipe_file.is_file():
        old = json.loads(recipe_file.read_text(encoding="utf-8"))
        if old != recipe:
            diff = {k: (old.get(k), recipe.get(k)) for k in set(old) | set(recipe) if old.get(k) != recipe.get(k)}
            raise SystemExit(f"{run} holds a run with another recipe {diff}: use another --run-dir")
    else:
        recipe_file.write_text(json.dumps(recipe, indent=1) + "\n", encoding="utf-8")

    torch.set_num_threads(args.threads)
    questions, paragraphs = full_training_set(args.bench)
    if args.limit:
        questions = random.Random(args.seed).sample(questions, args.limit)
        titles = {q["title"] for q in questions}  # a smoke run: distractors from their articles only
        paragraphs = [p for p in paragraphs if p["title"] in titles]
    para_text = {p["pid"]: p["text"] for p in paragraphs}
    log(f"training set: {len(questions)} questions ({sum(q['is_impossible'] for q in questions)} unanswerable), {len(paragraphs)} paragraphs")
    ncache = run / "neighbours.json"
    if ncache.is_file():
        neighbours = json.loads(ncache.read_text(encoding="utf-8"))
    else:
        neighbours = chunk_neighbours(paragraphs, questions)
        tmp = ncache.with_suffix(".tmp")
        tmp.write_text(json.dumps(neighbours), encoding="utf-8")
        tmp.replace(ncache)
    pool = name_pool(paragraphs) if args.swap_rate else None

    model = AutoModelForQuestionAnswering.from_pretrained(bundled_model_dir())
    opt = make_optimizer(torch, model, args.lr)
    state_dir = run / "state"
    pos = {"plan_index": 0, "batch": 0, "step": 0, "questions_done": 0, "loss": None}
    if (state_dir / "position.json").is_file():
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(state_dir / "model.safetensors")), strict=False)
        extra = torch.load(state_dir / "optimizer.pt", weights_only=False)
        opt.load_state_dict(extra["optimizer"])
        torch.set_rng_state(extra["torch_rng"])
        pos = json.loads((state_dir / "position.json").read_text(encoding="utf-8"))
        log(f"resuming {run} at step {pos['step']} ({pos['questions_done']} questions read)")
    elif args.init_from:
        state = dequantized_state(Path(args.init_from))
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        torch.manual_seed(args.seed)
        log(f"starting from {args.init_from} ({len(state)} tensors, dequantised); no full-precision checkpoint in {run}")
    else:
        torch.manual_seed(args.seed)
        log("starting from the bundled MiniLM weights")
    model.train()

    def save() -> None:
        tmp = run / "state.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        torch.save({"optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state()}, tmp / "optimizer.pt")
        (tmp / "position.json").write_text(json.dumps(pos, indent=1) + "\n", encoding="utf-8")
        old = run / "state.old"
        shutil.rmtree(old, ignore_errors=True)
        if state_dir.exists():
            state_dir.rename(old)
        tmp.rename(state_dir)
        shutil.rmtree(old, ignore_errors=True)
        log(f"saved state at step {pos['step']} in {state_dir}")

    stop = {"now": False}

    def on_signal(signum, frame) -> None:  # noqa: ARG001
        stop["now"] = True
        log("signal received: saving after this step")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    chunk_size = args.groups * 50
    plan = pass_plan(len(questions), args.epochs, args.seed, chunk_size)
    total_q = len(questions) * args.epochs
    started = time.perf_counter()
    steps_now = 0
    tok_groups = 0
    for pi in range(pos["plan_index"], len(plan)):
        epoch, c, idx = plan[pi]
        rng = random.Random(f"{args.seed}-groups-{epoch}-{c}")
        chunk_q = [questions[i] for i in idx]
        groups = make_groups(chunk_q, para_text, neighbours, rng, args.distractors, args.only_distractors, args.distractor_rate, args.swap_rate, pool, args.opposite_rate, args.same_article_rate)
        batches = chunk_batches(groups, args.groups, rng)
        q_before = pi * chunk_size if args.epochs == 1 else sum(len(p[2]) for p in plan[:pi])
        for bi in range(pos["batch"] if pi == pos["plan_index"] else 0, len(batches)):
            batch = batches[bi]
            progress = (q_before + len(idx) * (bi + 1) / len(batches)) / total_q
            for g in opt.param_groups:
                g["lr"] = args.lr * lr_factor(progress)
            loss = train_step(torch, model, opt, groups, batch)
            steps_now += 1
            tok_groups += len(batch)
            pos.update(plan_index=pi, batch=bi + 1, step=pos["step"] + 1, questions_done=int(progress * total_q))
            pos["loss"] = loss if pos["loss"] is None else 0.98 * pos["loss"] + 0.02 * loss
            if pos["step"] % 20 == 0:
                el = time.perf_counter() - started
                rate = tok_groups / el
                left = (1 - progress) * total_q * (len(groups) / max(1, len(idx))) / max(rate, 1e-9)
                log(f"step {pos['step']} ({100 * progress:.2f} % of the run) loss {pos['loss']:.3f} lr {opt.param_groups[0]['lr']:.2e} {el / steps_now:.2f} s/step {rate:.2f} groups/s eta {left / 3600:.1f} h")
            if pos["step"] % args.save_every == 0 or stop["now"]:
                save()
            if pos["step"] % args.keep_every == 0:
                kept = run / f"step-{pos['step']}"
                model.save_pretrained(kept)
                log(f"kept weights {kept}")
            if stop["now"]:
                log("stopped; run the same command to go on")
                return run
        pos.update(plan_index=pi + 1, batch=0)
    save()
    model.save_pretrained(run / "final")
    (run / "finished").write_text(time.strftime("%Y-%m-%dT%H:%M:%S") + "\n", encoding="utf-8")
    log(f"the pass is done: {run / 'final'}")
    return run


# ------------------------------------------------------------------ averaging


def model_state(path: Path) -> dict[str, np.ndarray]:
    """fp32 weights of a reader: an int8 ONNX file (dequantised) or a saved checkpoint folder."""
    if path.suffix == ".onnx":
        return dequantized_state(path)
    from safetensors.numpy import load_file

    return {k: v.astype(np.float32) for k, v in load_file(str(path / "model.safetensors")).items()}


def average(args: argparse.Namespace) -> Path:
    """The mean of several readers' weights, saved as a checkpoint that `export` reads.

    Why: a round starts from the shipped model and ends near it, in the same basin, and the
    mean of two such points usually scores at least as well as either (weight averaging, as in
    "model soups", Wortsman et al. 2022) — a free candidate, chosen or not on validation like
    every other."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    from qa.index.encoders import bundled_model_dir

    states = [model_state(Path(m)) for m in args.models]
    keys = set(states[0])
    if any(set(st) != keys for st in states[1:]):
        raise SystemExit("average: the models do not have the same parameters")
    mean = {k: torch.from_numpy(np.mean([st[k] for st in states], axis=0).astype(np.float32)) for k in sorted(keys)}
    model = AutoModelForQuestionAnswering.from_pretrained(bundled_model_dir())
    model.load_state_dict(mean, strict=True)
    out = Path(args.out)
    model.save_pretrained(out)
    log(f"wrote {out}: the mean of {', '.join(map(str, args.models))}")
    return out


# ------------------------------------------------------------------ export


def export(args: argparse.Namespace) -> None:
    """ONNX fp32 (kept in build/ for comparison), then int8 by onnxruntime dynamic quantisation.

    `--out` writes the candidate somewhere other than the shipped model, so it can be
    calibrated and measured before it replaces anything (commit a model only when it measures
    better on the validation articles)."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    ckpt = Path(args.checkpoint) if args.checkpoint else BUILD / "final"
    model = AutoModelForQuestionAnswering.from_pretrained(ckpt.resolve())
    model.eval()
    out = Path(args.out) if args.out else MODEL_DIR
    out.mkdir(parents=True, exist_ok=True)
    fp32 = (out if args.out else BUILD) / "reader-fp32.onnx"
    ids = torch.ones((2, 32), dtype=torch.long)
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits")},
        opset_version=17,
        dynamo=False,
    )
    quantise(fp32, out / "reader-int8.onnx", args.per_channel, not args.full_range)


def quantise(fp32: Path, target: Path, per_channel: bool, reduce_range: bool = True) -> None:
    """int8 weights by onnxruntime dynamic quantisation (activations are quantised per run).

    `reduce_range`: weights in 7 bits ([-64, 63]). Why: a CPU without VNNI multiplies uint8
    activations by int8 weights with vpmaddubsw, whose pairwise int16 sums saturate when both
    use the full range (255 × 127 × 2 > 32,767), while VNNI sums in int32 exactly — so the same
    file gave other answers on another CPU (issue 33: a pinned F1 moved 1.6 points by CPU
    alone). With 7-bit weights no pair can saturate, and every kernel computes the same integers."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=per_channel, reduce_range=reduce_range)
    log(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB, per_channel={per_channel}, reduce_range={reduce_range}) from {fp32}")


def validate(args: argparse.Namespace) -> list[dict]:
    """Compare model files on the validation articles, gold paragraph: answerable F1 without
    abstaining, and overall SQuAD v2.0 F1 at the best null margin *for that split*. This is what
    chooses a checkpoint or an export setting; the test articles are never read here."""
    from qa.answers.reader import Reader
    from qa.eval import metrics as M
    from qa.eval import public as B

    bench = B.load_squad(args.bench, split="validation", sample=args.sample, seed=SEED, version="2.0")
    results = []
    for path in args.models:
        started = time.perf_counter()
        readings = B.gold_readings(Reader.load(path, calibrated=False), bench)
        margins, f1s, has = [], [], []
        for q, rd in readings.items():
            gold = bench.answers[q]
            text = B.best_span_text(rd, bench.contexts[q])
            margins.append(rd.margin)
            f1s.append(M.token_f1(text, gold) if gold and text else 0.0)
            has.append(bool(gold))
        answerable = [f for f, h in zip(f1s, has, strict=True) if h]
        cut, overall = best_threshold(margins, has, f1s)
        row = {
            "model": str(path),
            "questions": len(readings),
            "answerable_f1": round(100 * sum(answerable) / max(1, len(answerable)), 2),
            "overall_f1": round(overall, 2),
            "null_margin": round(cut, 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        log(f"{path}: validation {row['questions']} questions — answerable F1 (no abstaining) {row['answerable_f1']:.2f}, overall F1 {row['overall_f1']:.2f} at null margin {cut:.3f} ({row['seconds']:.0f} s)")
        results.append(row)
    return results


# ------------------------------------------------------------------ calibration


def best_threshold(values: list[float], gold_has: list[bool], right: list[float], weights: list[float] | None = None) -> tuple[float, float]:
    """The cut on `values` (answer when value ≥ cut) with the best SQuAD v2.0 F1: an
    abstention scores 1 on an unanswerable question, an answer scores its F1 (`right`);
    `weights` weigh the questions (each kind of text the same in all, say)."""
    w = weights or [1.0] * len(values)
    order = sorted(range(len(values)), key=lambda i: -values[i])
    score = sum(wi for wi, h in zip(w, gold_has, strict=True) if not h)  # everything abstained
    best, cut = score, max(values) + 1e-6 if values else 0.0
    for i in order:  # answer one more question, most confident first
        score += w[i] * (right[i] - (0.0 if gold_has[i] else 1.0))
        if score > best:
            best, cut = score, values[i]
    return cut, 100 * best / max(1e-9, sum(w))


def fit_confidence(rows: list[dict]) -> dict:
    """Logistic regression over the candidates' features; label: token F1 ≥ 0.5 against a gold
    answer (never on an unanswerable question); a row's `weight` (default 1) weighs its candidates."""
    from sklearn.linear_model import LogisticRegression

    X = np.array([f for row in rows for f, _ in row["cands"]])
    y = np.array([int(f1 >= 0.5) for row in rows for _, f1 in row["cands"]])
    sw = np.array([row.get("weight", 1.0) for row in rows for _ in row["cands"]])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y, sample_weight=sw)
    return {"weights": [round(float(w), 5) for w in model.coef_[0]], "bias": round(float(model.intercept_[0]), 5)}


def most_confident(rows: list[dict], cal: dict) -> tuple[list[float], list[bool], list[float], list[float]]:
    """What the answer layer gives: (its confidence, has an answer, its F1, the row's weight) per question."""
    from qa.answers import answer as A

    conf, right = [], []
    for row in rows:
        c, f1 = max(((A.confidence(f, cal), f1) for f, f1 in row["cands"]), key=lambda t: t[0], default=(0.0, 0.0))
        conf.append(c)
        right.append(f1)
    return conf, [row["has"] for row in rows], right, [row.get("weight", 1.0) for row in rows]


def leave_one_article_out(rows: list[dict]) -> float:
    """SQuAD v2.0 F1 of confidence model + cut fitted on the other validation articles,
    scored on each article in turn: how the features do on articles they were not fitted on."""
    total = 0.0
    for held in sorted({row["article"] for row in rows}):
        fit = [row for row in rows if row["article"] != held]
        cal = fit_confidence(fit)
        cut, _ = best_threshold(*most_confident(fit, cal))
        for c, has, f1, w in zip(*most_confident([row for row in rows if row["article"] == held], cal), strict=True):
            total += w * ((f1 if c >= cut else 0.0) if has else float(c < cut))
    return 100 * total / max(1e-9, sum(row.get("weight", 1.0) for row in rows))


def candidates(reading, hits, gold: list[str], groups: int, extra: Callable[[str, Any], list[float]] | None = None) -> list[tuple[list[float], float]]:
    """(confidence features, token F1 against the gold answers) of the answer layer's best
    `groups` answers for one question, grouped as qa.answers.answer groups them before calibration.
    `extra(passage text, answer group)`: more features appended (tools/confidence_features.py)."""
    from qa.answers import answer as A
    from qa.eval import metrics as M

    neutral = {"weights": [0.0] * len(A.FEATURES), "bias": 0.0}
    found = sorted(A.distinct_answers(reading, hits, neutral), key=lambda g: -g.best.score)
    out = []
    for g in found[:groups]:
        passage = hits[g.best.passage].passage.text
        text = passage[g.best.start : g.best.end]
        feats = A.answer_features(reading, g.spans, hits[g.best.passage].rank) + (extra(passage, g) if extra else [])
        out.append((feats, M.token_f1(text, gold) if gold else 0.0))
    return out


def open_readings(bench, engine, reader, k: int = 5, leave_out: bool = False) -> Iterator[tuple[str, list, Any]]:
    """(question id, its top-k hybrid hits, the reader's reading of them) for every question of
    `bench`, 32 questions to a batch, as the answer layer reads them; `leave_out`: with the
    question's own article taken out of the passages (`qa.eval.public.hits_leaving_out`)."""
    from qa.eval import public as B

    qids = list(bench.queries)
    for start in range(0, len(qids), 32):
        chunk = qids[start : start + 32]
        hits = B.hits_leaving_out(engine, bench, chunk, k=k) if leave_out else engine.search_many([bench.queries[q] for q in chunk], k=k)
        readings = reader.read_many([bench.queries[q] for q in chunk], [[h.passage.text for h in hs] for hs in hits])
        yield from zip(chunk, hits, readings, strict=True)
        log(f"read {min(start + 32, len(qids))}/{len(qids)}{' (own article left out)' if leave_out else ''}")


def depth(args: argparse.Namespace) -> None:
    """Open-retrieval SQuAD v2.0 F1 on the validation articles when the reader reads only the
    top k retrieved passages, k = 1..--max-k, the confidence model and cut refitted for each k
    (in-sample and leave-one-article-out). Each question's top --max-k passages are read once:
    a window is one onnxruntime run, so its logits do not depend on the other windows, and
    decoding the first k passages' windows is exactly what reading k passages would give."""
    from qa.answers.reader import Reader, decode
    from qa.eval import public as B

    bench = B.load_squad(args.bench, split="validation", sample=args.sample, seed=SEED, version="2.0")
    engine = B.open_bench_engine(bench)
    r = Reader.load(calibrated=False)
    articles = {q["id"]: q["title"] for q in squad_split.load(args.bench).questions("validation")}
    ks = range(1, args.max_k + 1)
    rows: dict[int, list[dict]] = {k: [] for k in ks}
    windows_read = dict.fromkeys(ks, 0)
    qids = list(bench.queries)
    for start in range(0, len(qids), 32):
        chunk = qids[start : start + 32]
        for q, hs in zip(chunk, engine.search_many([bench.queries[q] for q in chunk], k=args.max_k), strict=True):
            ws = windows_for(r.tokenizer, bench.queries[q], [h.passage.text for h in hs])
            s, e = r.logits(ws)
            for k in ks:
                keep = [i for i, w in enumerate(ws) if w.passage < k]
                windows_read[k] += len(keep)
                rd = decode([ws[i] for i in keep], [s[i] for i in keep], [e[i] for i in keep])
                rows[k].append({"q": q, "article": articles[q], "has": bool(bench.answers[q]), "cands": candidates(rd, hs[:k], bench.answers[q], 5)})
        log(f"read {min(start + 32, len(qids))}/{len(qids)}")
    report = []
    for k in ks:
        _, f1 = best_threshold(*most_confident(rows[k], fit_confidence(rows[k])))
        report.append({"k": k, "open_f1": round(f1, 2), "open_f1_leave_one_article_out": round(leave_one_article_out(rows[k]), 2), "windows_per_question": round(windows_read[k] / max(1, len(qids)), 2)})
        log(json.dumps(report[-1]))
    print(json.dumps({"questions": len(qids), "depth": report}, indent=1))


# the kinds of text and question the confidence is fitted on (`calibrate`); each kind of text
# (SQuAD's Wikipedia, Amazon reviews) weighs the same in the fit and in the threshold's objective
CALIBRATION_KINDS = {
    "squad": "SQuAD v2.0 validation articles, open retrieval: answerable and near-miss unanswerable questions",
    "squad_left_out": "the same articles' answerable questions with their own article left out of the passages",
    "amazon": "SQuADShifts Amazon reviews (a validation set), open retrieval over all reviews",
    "amazon_left_out": "the same questions with their product's reviews left out",
}


def calibration_rows(bench, engine, reader, groups: int, kind: str, article_of_question: dict[str, str], leave_out: bool = False) -> list[dict]:
    """One row per question: the answer layer's best `groups` candidates (features, F1) as
    `qa ask` would see them; a question read with its article left out has no answer."""
    rows = []
    for q, hs, rd in open_readings(bench, engine, reader, leave_out=leave_out):
        gold = [] if leave_out else bench.answers[q]
        rows.append({"q": q, "kind": kind, "article": article_of_question[q], "has": bool(gold), "cands": candidates(rd, hs, gold, groups)})
    return rows


def weigh_by_text(rows: list[dict]) -> None:
    """Each kind of text (the part of `kind` before "_left_out") the same total weight."""
    texts = {row["kind"].removesuffix("_left_out") for row in rows}
    count = {t: sum(row["kind"].removesuffix("_left_out") == t for row in rows) for t in texts}
    for row in rows:
        row["weight"] = len(rows) / len(texts) / count[row["kind"].removesuffix("_left_out")]


def kind_report(rows: list[dict], cal: dict, cut: float) -> dict:
    """Per kind: SQuAD v2.0 F1 at the chosen cut, answered-right share (F1 ≥ 0.5) of the
    answerable questions and "not found" share of the unanswerable ones."""
    out = {}
    for kind in CALIBRATION_KINDS:
        sub = [row for row in rows if row["kind"] == kind]
        if not sub:
            continue
        conf, has, f1, _ = most_confident(sub, cal)
        given = [c >= cut for c in conf]
        score = [(f if g else 0.0) if h else float(not g) for g, h, f in zip(given, has, f1, strict=True)]
        ans = [i for i, h in enumerate(has) if h]
        out[kind] = {
            "questions": len(sub),
            "f1": round(100 * sum(score) / len(sub), 2),
            "answered_right": round(sum(given[i] and f1[i] >= 0.5 for i in ans) / len(ans), 3) if ans else None,
            "not_found_when_unanswerable": round(sum(not given[i] for i, h in enumerate(has) if not h) / max(1, len(has) - len(ans)), 3) if len(ans) < len(has) else None,
        }
    return out


def calibrate(args: argparse.Namespace) -> None:
    """Fit the confidence model and its "not found" threshold on what users meet: questions
    over SQuAD's validation articles and over Amazon reviews, each answerable (open retrieval),
    with its own article left out (the documents do not say it), and SQuAD v2.0's near misses
    (`CALIBRATION_KINDS`); the objective is SQuAD v2.0 F1 on the pooled set, each kind of text
    weighted equally. `--squad-only` fits on the SQuAD validation questions alone (rounds 1–10)."""
    import zlib

    from qa.answers import answer as A
    from qa.answers.reader import Reader
    from qa.eval import metrics as M
    from qa.eval import public as B

    if args.model:  # calibrate a candidate beside its own model file (the reader reads it from there)
        import os

        os.environ["QA_READER_MODEL"] = str(Path(args.model).resolve())
    bench = B.load_squad(args.bench, split="validation", sample=args.sample, seed=SEED, version="2.0")
    log(f"validation: {len(bench.queries)} questions ({sum(not a for a in bench.answers.values())} unanswerable), {len(bench.documents)} paragraphs")
    engine = B.open_bench_engine(bench)
    r = Reader.load(calibrated=False)  # not A.reader(): this writes the calibration it would read
    rows = calibration_rows(bench, engine, r, args.groups, "squad", bench.query_article)
    gold_reads = B.gold_readings(r, bench)
    gold_margin, gold_f1 = [], []
    for row in rows:
        gr, gold = gold_reads[row["q"]], bench.answers[row["q"]]
        g_text = B.best_span_text(gr, bench.contexts[row["q"]])
        gold_margin.append(gr.margin)
        gold_f1.append(M.token_f1(g_text, gold) if gold and g_text else 0.0)
    gcut, f1_gold = best_threshold(gold_margin, [row["has"] for row in rows], gold_f1)
    fitted_on = f"SQuAD dev validation articles {', '.join(squad_split.load(args.bench).articles('validation'))}: {len(rows)} questions"
    if not args.squad_only:
        answerable = dataclasses.replace(bench, queries={q: t for q, t in bench.queries.items() if bench.answers[q]})
        rows += calibration_rows(answerable, engine, r, args.groups, "squad_left_out", bench.query_article, leave_out=True)
        amazon = B.load_squadshifts(args.bench, "amazon_reviews", sample=args.amazon_sample, seed=SEED)
        a_engine = B.open_bench_engine(amazon)
        # products folded into four groups, so leave-one-group-out has the validation articles' grain
        fold = {q: f"amazon-fold-{zlib.crc32(p.encode()) % 4}" for q, p in amazon.query_article.items()}
        rows += calibration_rows(amazon, a_engine, r, args.groups, "amazon", fold)
        rows += calibration_rows(amazon, a_engine, r, args.groups, "amazon_left_out", fold, leave_out=True)
        fitted_on += f"; the answerable ones with their article left out; SQuADShifts Amazon reviews: {len(amazon.queries)} questions (seed {SEED}), in full and with their product left out; each kind of text weighted equally"
    weigh_by_text(rows)
    cal = fit_confidence(rows)
    cal["features"] = list(A.FEATURES)
    cut, f1_open = best_threshold(*most_confident(rows, cal))
    cal.update(
        {
            "abstain_below": round(float(cut), 4),
            "gold_paragraph_margin": round(float(gcut), 4),
            "validation": {
                "open_f1": round(f1_open, 2),
                "gold_paragraph_f1": round(f1_gold, 2),
                "questions": len(rows),
                # fitted on the other validation articles (and product folds), scored on each in turn
                "open_f1_leave_one_article_out": round(leave_one_article_out(rows), 2),
                "by_kind": kind_report(rows, cal, cut),
            },
        }
    )
    cal["fitted_on"] = fitted_on
    target = (Path(args.model).resolve().parent if args.model else MODEL_DIR) / "calibration.json"
    target.write_text(json.dumps(cal, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {target}: {cal}")
    # the confidence words' cut-offs belong to this calibration: measure them again
    log(f"next: python tools/confidence_labels.py{' --model ' + str(args.model) if args.model else ''}  (the high/medium/low cut-offs; until then the chat shows the number alone)")


# ------------------------------------------------------------------ all of it


def pipeline(args: argparse.Namespace) -> None:
    """train → export every saved checkpoint → validate them beside the shipped model → if the
    best candidate beats it on the validation articles: calibrate it and measure it on the test
    articles (`qa eval --squad --squad-version 2.0 --sample 0`). One background command for
    what a session otherwise runs by hand; the report goes to build/reader/pipeline.json.

    It ships nothing: replacing qa/models/reader/ is a reviewed commit (pins, docs, model card),
    and the choice among candidates reads validation numbers only."""
    import os
    import subprocess

    report: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "train": {k: str(v) for k, v in vars(args).items()}}
    out = BUILD / "pipeline.json"

    def save() -> None:
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")

    def step_args(*argv: str) -> argparse.Namespace:
        """A later step's options as its own command line parses them: its defaults, not copies."""
        return build_parser().parse_args([*argv, *(["--bench", str(args.bench)] if args.bench else [])])

    checkpoints = train(args)
    if args.init_from:  # the mean of where the round started and where it ended: one more candidate
        checkpoints.append(average(build_parser().parse_args(["average", args.init_from, str(checkpoints[-1]), "--out", str(BUILD / "checkpoint-average")])))
    candidates = []
    # both int8 layouts of every checkpoint: rounding moves validation F1 by about a point
    # either way (stop 27: per tensor 57.47 / per channel 58.84 / fp32 57.94 for one checkpoint),
    # so which layout ships is chosen on validation like the step is
    # (one fp32 export per checkpoint, quantised twice)
    for ckpt in checkpoints:
        cand = ROOT / "build" / f"cand-{ckpt.name.split('-')[-1]}"
        export(build_parser().parse_args(["export", "--checkpoint", str(ckpt), "--out", str(cand)]))
        quantise(cand / "reader-fp32.onnx", cand.with_name(f"{cand.name}-pc") / "reader-int8.onnx", per_channel=True)
        candidates += [cand / "reader-int8.onnx", cand.with_name(f"{cand.name}-pc") / "reader-int8.onnx"]
    rows = validate(step_args("validate", *map(str, candidates), str(MODEL_FILE), "--sample", str(args.val_sample)))
    report["validation"] = rows
    *cands, shipped = rows
    best = max(cands, key=lambda r: (r["overall_f1"], r["answerable_f1"]))
    report["best"] = best["model"]
    report["beats_shipped_on_validation"] = best["overall_f1"] > shipped["overall_f1"]
    save()
    if not report["beats_shipped_on_validation"]:
        log(f"no candidate beats the shipped model on validation ({best['overall_f1']} vs {shipped['overall_f1']}); report in {out}")
        return
    calibrate(step_args("calibrate", "--model", best["model"]))
    report["calibration"] = json.loads((Path(best["model"]).parent / "calibration.json").read_text(encoding="utf-8"))
    # the gate a shipped model must pass too: what users get is open retrieval, so a candidate
    # that reads gold paragraphs better must not answer retrieved passages worse (validation)
    shipped_open = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["validation"]["open_f1"]
    candidate_open = report["calibration"]["validation"]["open_f1"]
    report["open_f1_gate"] = {"candidate": candidate_open, "shipped": shipped_open, "allowed_loss": OPEN_F1_ALLOWED_LOSS}
    report["passes_open_f1_gate"] = candidate_open >= shipped_open - OPEN_F1_ALLOWED_LOSS
    save()
    if not report["passes_open_f1_gate"]:
        log(f"the best candidate loses open-retrieval validation F1 ({report['open_f1_gate']}); not measured on test; report in {out}")
        return
    env = {**os.environ, "QA_READER_MODEL": str(Path(best["model"]).resolve())}
    # every test question (the numbers to report), then the sample tests/test_reader.py pins
    for key, sample in (("test", "0"), ("test_pinned_sample", "400")):
        log(f"measuring the best candidate on the test articles (qa eval --squad --squad-version 2.0 --sample {sample} --seed 0)")
        cmd = [sys.executable, "-m", "qa", "eval", "--squad", "--squad-version", "2.0", "--sample", sample, "--seed", "0", "--json"]
        if args.bench:
            cmd += ["--bench-dir", str(args.bench)]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        report[key] = json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr.strip()[-2000:]}
        save()
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    save()
    log(f"report in {out}")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = argparse.ArgumentParser(add_help=False)
    t.add_argument("--bench", type=Path, default=None)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--groups", type=int, default=8, help="questions per step")
    t.add_argument("--distractors", type=int, default=1)
    t.add_argument("--distractor-rate", type=float, default=0.6, help="share of questions read with distractors (cost: one more window)")
    t.add_argument("--only-distractors", type=float, default=0.15, help="share of answerable questions read without their paragraph")
    t.add_argument("--swap-rate", type=float, default=0.0, help="share of answerable questions also read with a name or number swapped for one from another article (target: no answer)")
    t.add_argument("--same-article-rate", type=float, default=0.0, help="share of the swapped questions whose new name or number comes from another paragraph of their own article (a harder near miss)")
    t.add_argument("--opposite-rate", type=float, default=0.0, help="share of answerable questions also read turned on an opposite their paragraph does not state (largest → smallest; target: no answer)")
    t.add_argument("--max-steps", type=int, default=1300, help="optimizer steps (0: the whole --epochs); 1300 × 8 questions ≈ 0.85 epoch, the shipped model")
    t.add_argument("--limit", type=int, default=0, help="train on a sample (smoke tests)")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--save-at", type=float, nargs="*", default=[0.5, 0.75])
    t.add_argument("--seed", type=int, default=SEED, help="order of the questions and choice of distractors (continue a run with another seed: other questions first)")
    t.add_argument("--init-from", default=None, help="start from this int8 reader file (dequantised) instead of the bundled MiniLM: continue training the shipped model")
    sub.add_parser("train", parents=[t], help="fine-tune (checkpoints in build/reader/)")
    fp = sub.add_parser("full", parents=[t], help="a resumable pass over SQuAD v1.1 train + the dev training articles (state in --run-dir)")
    fp.add_argument("--run-dir", default=None, help="where the run's state and kept weights go (default: the user cache folder, qa/answers/reader-train/full-pass)")
    fp.add_argument("--save-every", type=int, default=200, help="steps between saves of the resumable state")
    fp.add_argument("--keep-every", type=int, default=1000, help="steps between weights kept as step-N/ for validation")
    pl = sub.add_parser("pipeline", parents=[t], help="train, export, validate, calibrate and test the best candidate; ships nothing")
    pl.add_argument("--val-sample", type=int, default=0, help="validation questions for choosing a checkpoint (0: all)")
    e = sub.add_parser("export")
    e.add_argument("--checkpoint", default=None)
    e.add_argument("--out", default=None, help="folder for the candidate (default: the shipped model's folder)")
    e.add_argument("--per-channel", action="store_true", help="int8 scales per output channel instead of per tensor")
    e.add_argument("--full-range", action="store_true", help="8-bit weights (rounds 1-10): answers then differ between CPUs with and without VNNI")
    v = sub.add_parser("validate")
    v.add_argument("models", nargs="+", help="ONNX files to compare")
    v.add_argument("--bench", type=Path, default=None)
    v.add_argument("--sample", type=int, default=0, help="validation questions (0: all)")
    c = sub.add_parser("calibrate")
    c.add_argument("--bench", type=Path, default=None)
    c.add_argument("--sample", type=int, default=0, help="validation questions (0: all)")
    c.add_argument("--groups", type=int, default=5, help="candidate answers per question in the fit")
    c.add_argument("--model", default=None, help="calibrate this ONNX file (calibration.json goes beside it; default: the shipped model)")
    c.add_argument("--amazon-sample", type=int, default=700, help="SQuADShifts Amazon review questions in the fit (seeded sample; 0: all 9,885)")
    c.add_argument("--squad-only", action="store_true", help="fit on the SQuAD validation questions alone, as rounds 1-10 were")
    a = sub.add_parser("average", help="mean of several readers' weights (int8 files or checkpoints), saved as a checkpoint")
    a.add_argument("models", nargs="+", help="int8 ONNX files or checkpoint folders")
    a.add_argument("--out", required=True, help="checkpoint folder to write")
    d = sub.add_parser("depth", help="validation F1 when the reader reads only the top k passages")
    d.add_argument("--bench", type=Path, default=None)
    d.add_argument("--sample", type=int, default=0, help="validation questions (0: all)")
    d.add_argument("--max-k", type=int, default=8)
    return ap


def main() -> None:
    args = build_parser().parse_args()
    {"train": train, "export": export, "calibrate": calibrate, "validate": validate, "pipeline": pipeline, "depth": depth, "average": average, "full": full_pass}[args.cmd](args)


if __name__ == "__main__":
    main()
