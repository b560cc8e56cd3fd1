"""One ``POST /v1/train`` run: check the request, build the model, spend the budget in whole
steps with AdamW and a warm-up + cosine schedule that ends at the run's last step, evaluate on the
held-out split, and answer with the fields the train contract names (``docs/train_contract.md``).

The recipe is flops-fit's own trainer's (``lib/train/``), so both frameworks agree for the same
family, size, budget and data: batch 32, peak lr 1e-3 decaying to 0.1 × peak, 5 % linear warm-up,
AdamW (β 0.9 / 0.999, ε 1e-8, weight decay 0.05 on matrices only — not on norms, biases or
lookup tables), global gradient-norm clip 1, the reported ``loss`` the mean of the last
min(20, ⌈10 % of steps⌉) steps, ``eval_loss`` over ``eval.batches`` × batch held-out examples.
"""
import math
import time

import torch
import torch.nn.functional as F

from counting import count_params, skip_init, training_flops_per_sample
from data import EVAL_SPLITS
from family import ConfigError, DataSpec

STEP_FLOOR_SLACK = 1e-9
LOSS_WINDOW_MAX_STEPS = 20
LOSS_WINDOW_FRACTION = 0.1
HONOURED = {"family", "size", "config", "dataset", "budget", "seed", "batch_size", "lr",
            "min_lr_ratio", "warmup_steps", "warmup_fraction", "weight_decay", "beta1", "beta2",
            "eps", "grad_clip", "eval", "progress_every", "timeout_s"}


class RequestError(Exception):
    """A request this worker refuses; ``status`` (422, 404…) and ``field`` name what and where."""

    def __init__(self, status, field, message):
        super().__init__(message)
        self.status, self.field = status, field


class Cancelled(Exception):
    """The client went away or the run's time limit passed."""


def sample_input(model, modality, data):
    """A batch of one, for counting FLOPs."""
    if modality == "text":
        return torch.zeros(1, model.context, dtype=torch.long)
    c = getattr(model, "config", {})
    side = c.get("image_size", data.image_size)
    return torch.zeros(1, side, side, c.get("channels", data.channels))


def units_per_sample(model, family):
    if family["data_unit"] == "tokens":
        return model.context
    return 1


def build(module, size, config, data):
    """``make_model`` with its ConfigError as a 422 naming the field."""
    try:
        return module.make_model(size, dict(config or {}), data)
    except ConfigError as error:
        field = error.field if error.field in ("size", "dataset") else f"config.{error.field}"
        raise RequestError(422, field, str(error)) from None


def _number(value, field, integer=False, minimum=None, maximum=None, positive=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and positive:
        ok = value > 0
    if ok and minimum is not None:
        ok = value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        raise RequestError(422, field, f"{field} is not a valid number: {value!r}.")
    return int(value) if integer else float(value)


def plan_run(request, families, data_source):
    """Check a request against the families and the data; everything a run needs."""
    if not isinstance(request, dict):
        raise RequestError(422, "body", "The body must be a JSON object.")
    name = request.get("family")
    if name not in families:
        raise RequestError(422, "family",
                           f"Unknown model family {name}; known: {', '.join(families)}.")
    module = families[name]
    family = module.FAMILY
    dataset = request.get("dataset")
    split = "train"
    if isinstance(dataset, dict):
        dataset, split = dataset.get("name"), dataset.get("split", "train")
    if not isinstance(dataset, str) or dataset == "":
        raise RequestError(422, "dataset", "dataset must be a name or {name, split}.")
    try:
        info = data_source.info(dataset)
    except Exception as error:  # noqa: BLE001 - the data server's refusal, named
        status = getattr(error, "status", 503)
        raise RequestError(422 if status == 404 else status, "dataset", str(error)) from None
    data = DataSpec(info)
    if data.modality != family["modality"]:
        raise RequestError(422, "dataset", f"Family {name} trains on {family['modality']} data; "
                           f"{dataset} is {data.modality}.")
    if split not in data.splits:
        raise RequestError(422, "dataset.split", f"Dataset {dataset} has no split {split}.")
    ev = request.get("eval") or {}
    eval_split = ev.get("split") or next((s for s in EVAL_SPLITS if s in data.splits), None)
    if eval_split not in data.splits:
        raise RequestError(422, "eval.split", f"Dataset {dataset} has no held-out split.")
    size = _number(request.get("size"), "size", integer=True, minimum=1)
    with skip_init():  # this model is only counted; the run builds its own from the seed
        model = build(module, size, request.get("config"), data)
    total, non_embedding = count_params(model)
    flops_per_sample = training_flops_per_sample(model, sample_input(model, family["modality"], data))
    batch_size = _number(request.get("batch_size", 32), "batch_size", integer=True, minimum=1)
    budget = request.get("budget")
    if not isinstance(budget, dict) or len(budget) != 1:
        raise RequestError(422, "budget", "Give exactly one of flops, steps, samples or tokens.")
    (kind, value), = budget.items()
    value = _number(value, f"budget.{kind}", positive=True)
    units = units_per_sample(model, family)
    if kind == "flops":
        samples_wanted = value / flops_per_sample
    elif kind == "steps":
        samples_wanted = value * batch_size
    elif kind == "samples":
        samples_wanted = value
    elif kind == "tokens" and family["data_unit"] == "tokens":
        samples_wanted = value / units
    else:
        raise RequestError(422, f"budget.{kind}", f"Unsupported budget kind {kind}.")
    steps = math.floor(samples_wanted / batch_size + STEP_FLOOR_SLACK)
    if steps < 1:
        raise RequestError(422, f"budget.{kind}", f"The budget buys less than one step of "
                           f"{batch_size} samples ({flops_per_sample * batch_size:.3e} FLOPs).")
    lr = _number(request.get("lr", 1e-3), "lr", positive=True, maximum=1)
    min_lr = lr * _number(request.get("min_lr_ratio", 0.1), "min_lr_ratio", minimum=0, maximum=1)
    warmup = request.get("warmup_steps")
    if warmup is None:
        warmup = round_half_up(_number(request.get("warmup_fraction", 0.05), "warmup_fraction",
                                       minimum=0, maximum=1) * steps)
    warmup = max(0, min(_number(warmup, "warmup_steps", integer=True, minimum=0), steps - 1))
    return {
        "request": request, "module": module, "family": family, "model": model, "data": data,
        "dataset": dataset, "split": split, "eval_split": eval_split, "size": size,
        "params": total, "non_embedding_params": non_embedding,
        "flops_per_sample": flops_per_sample, "units_per_sample": units,
        "batch_size": batch_size, "steps": steps, "budget": {"kind": kind, "value": value},
        "lr": lr, "min_lr": min_lr, "warmup_steps": warmup,
        "seed": _number(request.get("seed", 0), "seed", integer=True, minimum=0),
        "eval_batches": _number(ev.get("batches", 4), "eval.batches", integer=True, minimum=1),
        "eval_batch_size": _number(ev.get("batch_size", batch_size), "eval.batch_size",
                                   integer=True, minimum=1),
        "eval_seed": _number(ev.get("seed", 0), "eval.seed", integer=True, minimum=0),
        "ignored": sorted(k for k in request if k not in HONOURED),
    }


def round_half_up(x):
    return math.floor(x + 0.5)


def learning_rate(step, p):
    """Linear warm-up to the peak, then cosine to min at the last step (flops-fit's schedule)."""
    peak, low, w, total = p["lr"], p["min_lr"], p["warmup_steps"], p["steps"]
    if step < w:
        return peak * (step + 1) / w
    decay = total - 1 - w
    if decay <= 0:
        return low if step >= total - 1 and w < total else peak
    progress = min(1.0, (step - w) / decay)
    return low + 0.5 * (peak - low) * (1 + math.cos(math.pi * progress))


def param_groups(model, weight_decay):
    """Decay matrices only: not norms, biases, or lookup tables (embeddings, CLS, positions)."""
    if hasattr(model, "embedding_parameters"):
        tables = {id(t) for t in model.embedding_parameters()}
    else:
        tables = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    decay, rest = [], []
    for param in model.parameters():
        (decay if param.dim() >= 2 and id(param) not in tables else rest).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def train_run(p, data_source, device, on_progress=None, cancelled=lambda: False):
    """Train the planned run; returns the answer the contract describes."""
    started = time.perf_counter()
    request = p["request"]
    torch.manual_seed(p["seed"])
    # A fresh model from the seed (the one planned was only counted).
    model = build(p["module"], p["size"], request.get("config"), p["data"]).to(device)
    text = p["family"]["modality"] == "text"
    context = model.context if text else None
    b = p["batch_size"]
    opt = torch.optim.AdamW(param_groups(model, float(request.get("weight_decay", 0.05))),
                            lr=p["lr"], betas=(float(request.get("beta1", 0.9)),
                                               float(request.get("beta2", 0.999))),
                            eps=float(request.get("eps", 1e-8)))
    clip = float(request.get("grad_clip", 1.0))
    steps = p["steps"]
    every = int(request.get("progress_every") or max(1, steps // 100))

    losses, step_s, diverged = [], [], False
    train_started = time.perf_counter()
    model.train()
    batches = data_source.steps(p["dataset"], p["split"], p["seed"], b, steps, context)
    for step, (x, y) in enumerate(batches):
        if cancelled():
            raise Cancelled()
        t0 = time.perf_counter()
        lr = learning_rate(step, p)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = loss_of(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip) if clip > 0 else None
        opt.step()
        value = loss.item()
        step_s.append(time.perf_counter() - t0)
        losses.append(value)
        if not math.isfinite(value):
            diverged = True
            break
        done = step + 1
        if on_progress is not None and (done % every == 0 or done == steps):
            on_progress({"type": "progress", "step": done, "steps": steps, "samples": done * b,
                         "flops": done * b * p["flops_per_sample"], "loss": value, "lr": lr,
                         **({} if norm is None else {"grad_norm": float(norm)}),
                         "elapsed_s": time.perf_counter() - started})
    train_s = time.perf_counter() - train_started
    done = len(losses)
    window = max(1, min(LOSS_WINDOW_MAX_STEPS, math.ceil(done * LOSS_WINDOW_FRACTION), done))
    final = sum(losses[-window:]) / window
    ev = None if diverged else evaluate(model, p, data_source, device, context)
    samples = done * b
    step_s.sort()
    kind = "gpu" if device.type == "cuda" else "cpu"
    description = (torch.cuda.get_device_name(device) if kind == "gpu"
                   else f"CPU, {torch.get_num_threads()} threads")
    return {
        "family": p["family"]["name"],
        "config": getattr(model, "config", {}),
        "dataset": {"name": p["dataset"], "split": p["split"], "eval_split": p["eval_split"]},
        "seed": p["seed"],
        "params": p["params"],
        "non_embedding_params": p["non_embedding_params"],
        "flops_per_sample": p["flops_per_sample"],
        "tokens_per_sample": p["units_per_sample"] if text else 1,
        "budget": p["budget"],
        "steps": done,
        "batch_size": b,
        "samples": samples,
        **({"tokens": samples * context} if text else {"images": samples}),
        "flops": samples * p["flops_per_sample"],
        "lr": {"peak": p["lr"], "min": p["min_lr"], "warmup_steps": p["warmup_steps"]},
        "loss": final if math.isfinite(final) else None,
        "loss_window_steps": window,
        "diverged": diverged,
        "eval_loss": None if ev is None else ev["loss"],
        **({} if ev is None or ev.get("accuracy") is None else {"eval_accuracy": ev["accuracy"]}),
        "eval_samples": 0 if ev is None else ev["samples"],
        "ignored_fields": p["ignored"],
        "wall_s": time.perf_counter() - started,
        "train_s": train_s,
        "step_ms_median": 1000 * step_s[len(step_s) // 2] if step_s else 0,
        "samples_per_s": samples / train_s if train_s > 0 else 0,
        "framework": f"pytorch-{torch.__version__}",
        "backend": {"name": f"torch-{device.type}", "kind": kind, "description": description},
    }


def evaluate(model, p, data_source, device, context):
    """Held-out loss (and accuracy for classifiers) on the first eval.batches × batch examples
    of the eval split's seeded order."""
    model.eval()
    n = p["eval_batches"] * p["eval_batch_size"]
    loss_sum, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for offset in range(0, n, 256):
            count = min(256, n - offset)
            x, y = data_source.batch(p["dataset"], p["eval_split"], p["eval_seed"], offset, count,
                                     context)
            x, y = x.to(device), y.to(device)
            logits = model(x)
            flat = logits.reshape(-1, logits.shape[-1])
            loss_sum += F.cross_entropy(flat, y.reshape(-1), reduction="mean").item() * x.shape[0]
            if context is None:
                correct += (flat.argmax(-1) == y.reshape(-1)).sum().item()
            seen += x.shape[0]
    model.train()
    loss = loss_sum / seen
    return {"loss": loss if math.isfinite(loss) else None, "samples": seen,
            "accuracy": None if context is not None else correct / seen}
