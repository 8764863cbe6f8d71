"""Benchmark of the encoders: parameters, training throughput, inference latency, FLOPs, share of the GEMM rate.

Run from the repository root::

    python bench/encoder_speed.py            # every encoder; table on stdout, JSON to bench/results/encoder_speed.json
    python bench/encoder_speed.py --only --weaver /path/to/venv-0.4.17/bin/python --weaver /path/to/venv-0.5.3/bin/python

Parameters, FLOPs and peak memory are measured in a fresh process per model. Timing is a lock-step
round-robin: every model (and a 2048³ float32 GEMM) lives in its own worker process, under its own Python and
allocator setting, and each round asks every worker in turn for one step, for ``--rounds`` rounds, so all see
the same load of this shared, noisy CPU and none shares a heap with another; best and median are reported.
Batches are random events with ``--objects`` slots of which ``--min-real`` to ``--objects`` are real.

- training throughput: events/s of forward + backward (+ zeroing the gradients), batch ``--batch-size``;
- inference latency: ms per batch of ``--batch-size`` and per single event, ``torch.inference_mode``;
- FLOPs per event of forward + backward and of forward alone, by ``torch.utils.flop_counter`` with attention
  forced onto the math backend (so its matrix products are counted); each implementation's own count;
- share of the GEMM rate: FLOPs/event × best events/s divided by the best FLOP/s of the GEMM timed in the same
  rounds, the practical limit of the machine;
- minor page faults per training step (the kernel zeroing fresh pages), which the allocator setting decides:
  our encoders run as ``lfi train`` runs them, with :func:`lfi.allocator.keep_freed_memory`;
- the ``bdt`` (LightGBM) apart, in the main process: tree leaves, fit events/s for 100 rounds, inference latency.

The peers are weaver-core's ParticleTransformer, timed with our ``part`` at the same configuration in workers
that run under the Python of an environment where ``weaver-core`` is installed (``--weaver``, repeatable; that
environment must also reach torch and this repository); nothing of weaver is vendored here. They get the same
hyper-parameters (``trim=False``, dropout 0 like ours, ParT's four pair features) and precomputed per-object
features, as their data loader would give them. Each runs with glibc's default allocator and with
``keep_freed_memory``, and three ratios are printed: as used (ours with it, weaver as shipped) and at equal
allocator settings both ways.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

# this file is named like the package it measures: keep its own folder off the import path

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PART_DEFAULT = dict(embed_dims=[128, 512, 128], pair_embed_dims=[64, 64, 64], num_heads=8, num_layers=8,
                    num_cls_layers=2)
PART_SMALL = dict(embed_dims=[64, 64, 64], pair_embed_dims=[32, 32, 32], num_heads=8, num_layers=8, num_cls_layers=2)
PART_PAIR = "ln_kt,ln_z,ln_delta,ln_m2"
GEMM_SIZE = 2048
ALLOCATORS = ("default", "lfi")  # glibc defaults, lfi.allocator.keep_freed_memory


def default_cases() -> list[dict]:
    """Our encoders at their default configuration, plus ParT at the paper's and a small configuration."""
    cases = [{"label": name, "impl": "lfi", "encoder": name, "config": {}}
             for name in ("mlp", "cnn1d", "mixer", "particlenet", "part", "sett", "iaformer")]
    cases += [
        {"label": "part int. SM", "impl": "lfi", "encoder": "part",
         "config": {"pair": "mass,delta_r", "interaction": "sm_running"}},
        {"label": "particlenet int. SM k=8", "impl": "lfi", "encoder": "particlenet",
         "config": {"pair": "mass,delta_r", "interaction": "sm_running", "k": 8}},
        {"label": "part ParT-default", "impl": "lfi", "encoder": "part", "config": {"pair": PART_PAIR, **PART_DEFAULT}},
        {"label": "part ParT-small", "impl": "lfi", "encoder": "part", "config": {"pair": PART_PAIR, **PART_SMALL}},
    ]
    return [{**case, "allocator": "lfi"} for case in cases]  # as lfi train runs them


def peer_cases(python: str) -> list[dict]:
    """Our part and weaver-core's ParT at the paper's and the small configuration, each with glibc's allocator
    defaults and with :func:`lfi.allocator.keep_freed_memory` (what ``lfi train`` uses on the CPU)."""
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('weaver-core'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    cases = []
    for size, cfg in (("default", PART_DEFAULT), ("small", PART_SMALL)):
        for allocator in ALLOCATORS:
            cases.append({"label": f"part ParT-{size} [{allocator}]", "impl": "lfi", "encoder": "part", "size": size,
                          "allocator": allocator, "config": {"pair": PART_PAIR, **cfg}})
            cases.append({"label": f"weaver {version} ParT-{size} [{allocator}]", "impl": "weaver", "python": python,
                          "version": version, "size": size, "allocator": allocator, "config": cfg})
    return cases


# --------------------------------------------------------------------------------------------------
# worker side
# --------------------------------------------------------------------------------------------------
def random_events(batch: int, n_objects: int, min_real: int, seed: int = 0):
    """Momenta (B, P, 4) GeV, types (B, P), globals (B, 2): 10–P real objects, p_T 7–400 GeV, |η| ≲ 3."""
    g = torch.Generator().manual_seed(seed)
    n_real = torch.randint(min_real, n_objects + 1, (batch,), generator=g)
    types = torch.randint(1, 8, (batch, n_objects), generator=g)
    types[torch.arange(n_objects)[None] >= n_real[:, None]] = 0
    pt = torch.exp(torch.rand(batch, n_objects, generator=g) * 4 + 2)
    eta, phi = torch.randn(batch, n_objects, generator=g), (torch.rand(batch, n_objects, generator=g) * 2 - 1) * math.pi
    px, py, pz = pt * phi.cos(), pt * phi.sin(), pt * eta.sinh()
    mass = torch.rand(batch, n_objects, generator=g) * 20
    momenta = torch.stack([torch.sqrt(px**2 + py**2 + pz**2 + mass**2), px, py, pz], -1) * (types != 0)[..., None]
    return momenta, types, torch.randn(batch, 2, generator=g) * 30 + 40


def _build(case: dict, momenta, types, globals_):
    """Model and a closure running its forward on the batch of the given size."""
    if case["impl"] == "lfi":
        from estimators.encoders import build_encoder

        model = build_encoder(case["encoder"], n_objects=momenta.shape[1], n_globals=globals_.shape[1],
                              **case["config"])
        model.fit_input_scaling(momenta, types, globals_)
        return model, lambda n: model(momenta[:n], types[:n], globals_[:n])
    from estimators.features import OBJECT_FEATURES, InputScaler
    from weaver.nn.model.ParticleTransformer import ParticleTransformer

    cfg = dict(case["config"])
    zero = dict(dropout=0.0, attn_dropout=0.0, activation_dropout=0.0)
    model = ParticleTransformer(input_dim=len(OBJECT_FEATURES), num_classes=2, fc_params=None, pair_input_dim=4, trim=False,
                                block_params=zero, cls_block_params=zero, **cfg)
    scaler = InputScaler(n_globals=globals_.shape[1])
    scaler.fit_input_scaling(momenta, types, globals_)
    x = scaler.objects(momenta, types).transpose(1, 2).contiguous()  # (B, F, P), our per-object features
    v = momenta[..., [1, 2, 3, 0]].transpose(1, 2).contiguous()  # (B, 4, P): px, py, pz, E
    mask = (types != 0).unsqueeze(1)
    return model, lambda n: model(x[:n], v[:n], mask[:n])


def count_flops(fn) -> float:
    """FLOPs of everything ``fn`` runs (forward and, if it calls it, backward), by the formulas of
    ``torch.utils.flop_counter`` (matrix products, convolutions, attention).

    A plain dispatch mode rather than ``FlopCounterMode``, whose module tracker rejects weaver's model.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Counter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                Counter.total += formula(*args, **kwargs, out_val=out)
            return out

    with Counter():
        fn()
    return float(Counter.total)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss_kb() -> int:
    """Reset this process's peak resident memory to its current value (Linux), return that value in kB.

    ``ru_maxrss`` alone would not do: its high-water mark survives ``exec``, so a worker would inherit the peak
    of the process that started it.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def _peak_rss_kb() -> int:
    return _status_kb("VmHWM")


def measure_static(case: dict, args: argparse.Namespace) -> dict:
    """Parameters, FLOPs per event and the peak-memory increase of two training steps, in this process."""
    import warnings

    from torch.nn.attention import SDPBackend, sdpa_kernel

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b = args.batch_size
    momenta, types, globals_ = random_events(b, args.objects, args.min_real)
    rss0 = _reset_peak_rss_kb()
    model, forward = _build(case, momenta, types, globals_)
    model.train()
    for _ in range(2):
        forward(b).float().square().mean().backward()
        model.zero_grad(set_to_none=True)
    peak_mb = (_peak_rss_kb() - rss0) / 1024
    with sdpa_kernel(SDPBackend.MATH):
        flops_train = count_flops(lambda: forward(b).float().square().mean().backward())
        model.zero_grad(set_to_none=True)
        with torch.no_grad():
            flops_forward = count_flops(lambda: forward(b))
    return {"parameters": sum(p.numel() for p in model.parameters()), "flops_per_event_train": flops_train / b,
            "flops_per_event_forward": flops_forward / b, "train_peak_rss_increase_mb": peak_mb}


def serve(case: dict, args: argparse.Namespace) -> None:
    """Timing worker for one model (or the GEMM): build it, then answer timing requests from stdin.

    Requests are lines ``train``, ``infer``, ``single`` or ``quit``; each answer is one JSON line with the wall
    and process CPU seconds of one step (and the minor page faults of a training step). The worker applies
    :func:`lfi.allocator.keep_freed_memory` first when the case asks for ``"allocator": "lfi"``.
    """
    import warnings

    warnings.filterwarnings("ignore")
    if case.get("allocator") == "lfi":
        from lfi.allocator import keep_freed_memory

        if not keep_freed_memory():
            raise RuntimeError("lfi.allocator.keep_freed_memory did not apply here (not glibc, or MALLOC_* set)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b = args.batch_size
    if case["impl"] == "gemm":
        left, right = torch.randn(GEMM_SIZE, GEMM_SIZE), torch.randn(GEMM_SIZE, GEMM_SIZE)
        steps = {"train": lambda: torch.mm(left, right)}
        torch.mm(left, right)
    else:
        momenta, types, globals_ = random_events(b, args.objects, args.min_real)
        model, forward = _build(case, momenta, types, globals_)

        def train_step():
            model.train()
            forward(b).float().square().mean().backward()
            model.zero_grad(set_to_none=True)

        def infer(n):
            model.eval()
            with torch.inference_mode():
                forward(n)

        steps = {"train": train_step, "infer": lambda: infer(b), "single": lambda: infer(1)}
        for _ in range(2):
            train_step()
        infer(b)
    print("ready", flush=True)
    for line in sys.stdin:
        request = line.strip()
        if request == "quit":
            return
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        wall, cpu = time.perf_counter(), time.process_time()
        steps[request]()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        print(json.dumps({"wall": wall, "cpu": cpu, "faults": faults}), flush=True)


def measure_bdt(args: argparse.Namespace, n_train: int = 20_000, rounds: int = 100) -> list[dict]:
    """The ``bdt`` estimator (LightGBM, not a torch model) on the same kind of events, in this process.

    A two-class fit with exactly ``rounds`` boosting rounds (no early stopping) on ``n_train`` events whose
    label depends on H_T; reported: total tree leaves (its "parameters"), training events/s (``n_train`` over
    the fit time, data preparation included), inference ms per batch and per single event.
    """
    import numpy as np

    from estimators.bdt import BDTEstimator

    rows = []
    momenta, types, globals_ = random_events(n_train + 2048, args.objects, args.min_real, seed=1)
    ht = momenta[..., 1:3].norm(dim=-1).sum(1)
    label = (ht > ht.median()).long() ^ (torch.rand(len(ht), generator=torch.Generator().manual_seed(2)) < 0.2).long()
    batch = {"momenta": momenta.numpy(), "types": types.numpy(), "globals": globals_.numpy(), "process": label.numpy()}
    train = [{k: v[:n_train] for k, v in batch.items()}]
    val = [{k: v[n_train:] for k, v in batch.items()}]
    for pair in ("none", "mass,delta_r"):
        model = BDTEstimator(n_objects=args.objects, n_globals=globals_.shape[1], pair=pair, num_boost_round=rounds,
                             early_stopping_rounds=0, num_threads=args.threads)
        start = time.perf_counter()
        model.fit_classifier(train, val)
        fit = time.perf_counter() - start
        infer = {n: min(_timed(lambda: model.predict_proba(*(batch[k][:n] for k in ("momenta", "types", "globals"))))
                        for _ in range(5)) for n in (args.batch_size, 1)}
        leaves = int(np.sum([tree["num_leaves"] for tree in model.booster.dump_model()["tree_info"]]))
        rows.append({"label": f"bdt pair={pair}", "impl": "lfi", "encoder": "bdt", "config": {"pair": pair},
                     "boosting_rounds": rounds, "train_events": n_train, "columns": model.n_columns,
                     "tree_leaves": leaves, "fit_seconds": fit, "train_events_per_s": n_train / fit,
                     "infer_ms_per_batch_best": 1e3 * infer[args.batch_size],
                     "infer_ms_per_event_single_best": 1e3 * infer[1]})
    return rows


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------------
# orchestrator
# --------------------------------------------------------------------------------------------------
def _argv(python: str, args: argparse.Namespace) -> list[str]:
    return [python, str(Path(__file__).resolve()), "--threads", str(args.threads), "--batch-size", str(args.batch_size),
            "--objects", str(args.objects), "--min-real", str(args.min_real)]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def static_of(case: dict, args: argparse.Namespace) -> dict:
    """Parameters, FLOPs and peak memory of one case, measured in a fresh process under its Python."""
    done = subprocess.run(_argv(case.get("python", sys.executable), args) + ["--static", json.dumps(case)],
                          capture_output=True, text=True, env=_env())
    if done.returncode:
        raise RuntimeError(f"static worker for {case['label']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_round_robin(cases: list[dict], args: argparse.Namespace) -> dict:
    """Lock-step round-robin timing of several models, each in its own process, and of a GEMM.

    Every case gets a worker process (under its own Python, with its own allocator setting, as it would run
    for a user); every round asks each worker in turn for one training step, so all of them see the same load
    of a shared machine, and none shares a heap with another. Then the same for inference.
    """
    gemm = {"label": "gemm", "impl": "gemm", "allocator": "default"}
    workers = {}
    try:
        for case in [*cases, gemm]:
            workers[case["label"]] = subprocess.Popen(
                _argv(case.get("python", sys.executable), args) + ["--serve", json.dumps(case)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, env=_env())
        for label, worker in workers.items():
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError(f"timing worker for {label} failed to start (run it alone to see its error)")

        def ask(label: str, request: str) -> dict:
            workers[label].stdin.write(request + "\n")
            workers[label].stdin.flush()
            return json.loads(workers[label].stdout.readline())

        out = {c["label"]: {"train_wall": [], "train_cpu": [], "train_faults": [], "infer_wall": [], "single_wall": []}
               for c in cases}
        gemm_rate = []
        for _ in range(args.rounds):
            for case in cases:
                step = ask(case["label"], "train")
                for key in ("wall", "cpu", "faults"):
                    out[case["label"]][f"train_{key}"].append(step[key])
            gemm_rate.append(2 * GEMM_SIZE**3 / ask("gemm", "train")["wall"])
        for _ in range(args.rounds):
            for case in cases:
                out[case["label"]]["infer_wall"].append(ask(case["label"], "infer")["wall"])
                out[case["label"]]["single_wall"].append(min(ask(case["label"], "single")["wall"] for _ in range(3)))
        for worker in workers.values():
            worker.stdin.write("quit\n")
            worker.stdin.flush()
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait(timeout=60)
    return {"cases": out, "gemm_flops_per_s": gemm_rate}


def _median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def summarise(case: dict, static: dict, timing: dict, gemm: float, batch: int) -> dict:
    t = timing
    best, med = batch / min(t["train_wall"]), batch / _median(t["train_wall"])
    return {
        "label": case["label"], "impl": case["impl"], "encoder": case.get("encoder", "weaver ParticleTransformer"),
        "version": case.get("version"), "config": case.get("config", {}), **static,
        "train_events_per_s_best": best, "train_events_per_s_median": med,
        "train_events_per_cpu_s_best": batch / min(t["train_cpu"]),
        "infer_ms_per_batch_best": 1e3 * min(t["infer_wall"]), "infer_ms_per_event_single_best": 1e3 * min(t["single_wall"]),
        "gemm_share_train": static["flops_per_event_train"] * best / gemm,
        "allocator": case.get("allocator"), "page_faults_per_train_step_median": _median(t["train_faults"]),
    }


def table(results: list[dict]) -> str:
    head = (f"{'model':40s} {'params':>10s} {'train ev/s':>10s} {'(median)':>8s} {'infer ms/256':>12s} "
            f"{'ms/event(1)':>11s} {'MFLOP/ev f+b':>12s} {'% GEMM':>7s} {'peak MB':>8s} {'faults/step':>11s}")
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r['label']:40s} {r['parameters']:10,d} {r['train_events_per_s_best']:10.0f} "
                     f"{r['train_events_per_s_median']:8.0f} {r['infer_ms_per_batch_best']:12.1f} "
                     f"{r['infer_ms_per_event_single_best']:11.2f} {r['flops_per_event_train'] / 1e6:12.1f} "
                     f"{100 * r['gemm_share_train']:7.1f} {r['train_peak_rss_increase_mb']:8.0f} "
                     f"{r['page_faults_per_train_step_median']:11.0f}")
    return "\n".join(lines)


def paired_ratios(timing: dict, ours: str, theirs: str) -> dict:
    """Throughput of ours over theirs: ratio of best steps, and median of the per-round ratios (wall, CPU)."""
    a, b = timing["cases"][ours], timing["cases"][theirs]
    return {
        "best_wall": min(b["train_wall"]) / min(a["train_wall"]),
        "median_round_wall": _median([tb / ta for ta, tb in zip(a["train_wall"], b["train_wall"])]),
        "median_round_cpu": _median([tb / ta for ta, tb in zip(a["train_cpu"], b["train_cpu"])]),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weaver", action="append", default=[], metavar="PYTHON",
                   help="Python of an environment with weaver-core installed (repeatable)")
    p.add_argument("--only", nargs="*", help="labels of our cases to run, 'bdt' for the BDT (default: all; none: "
                   "the peers alone)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--objects", type=int, default=18)
    p.add_argument("--min-real", type=int, default=10)
    p.add_argument("--rounds", type=int, default=12, help="round-robin timing rounds")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "encoder_speed.json")
    p.add_argument("--static", help=argparse.SUPPRESS)
    p.add_argument("--serve", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.static:
        print(json.dumps(measure_static(json.loads(args.static), args)))
        return 0
    if args.serve:
        serve(json.loads(args.serve), args)
        return 0

    cases = default_cases()
    if args.only is not None:
        cases = [c for c in cases if c["label"] in args.only]
    static = {c["label"]: static_of(c, args) for c in cases}
    results = []
    if cases:
        timing = time_round_robin(cases, args)
        gemm = max(timing["gemm_flops_per_s"])
        results = [summarise(c, static[c["label"]], timing["cases"][c["label"]], gemm, args.batch_size) for c in cases]
        print(f"GEMM {GEMM_SIZE}³ float32: best {gemm / 1e9:.1f} GFLOP/s, median "
              f"{_median(timing['gemm_flops_per_s']) / 1e9:.1f} on {args.threads} threads "
              f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs); allocator as in lfi train")
        print(table(results))
    bdt = [] if args.only is not None and "bdt" not in args.only else measure_bdt(args)
    for r in bdt:
        print(f"{r['label']:40s} {r['tree_leaves']:10,d} leaves, {r['columns']} columns: fit {r['train_events_per_s']:.0f} "
              f"events/s ({r['boosting_rounds']} rounds, {r['train_events']} events), inference "
              f"{r['infer_ms_per_batch_best']:.1f} ms/{args.batch_size}, {r['infer_ms_per_event_single_best']:.2f} ms/event")

    peers = []
    for python in args.weaver:
        pair_cases = peer_cases(python)
        pair_static = {c["label"]: static_of(c, args) for c in pair_cases}
        pair_timing = time_round_robin(pair_cases, args)
        pair_gemm = max(pair_timing["gemm_flops_per_s"])
        rows = [summarise(c, pair_static[c["label"]], pair_timing["cases"][c["label"]], pair_gemm, args.batch_size)
                for c in pair_cases]
        ratios = {}
        for size in ("default", "small"):
            label = {(c["impl"], c["allocator"]): c["label"] for c in pair_cases if c["size"] == size}
            for name, ours, theirs in (("as used (ours lfi, theirs default)", "lfi", "default"),
                                       ("same allocator: glibc default", "default", "default"),
                                       ("same allocator: lfi", "lfi", "lfi")):
                ratios[f"ParT-{size}, {name}"] = paired_ratios(pair_timing, label["lfi", ours], label["weaver", theirs])
        peers.append({"python": python, "gemm_flops_per_s": pair_gemm, "results": rows, "ratios": ratios})
        print(f"\nside by side with weaver-core {pair_cases[1]['version']} (a process per model, lock-step "
              f"round-robin; GEMM {pair_gemm / 1e9:.1f} GFLOP/s)")
        print(table(rows))
        for k, v in ratios.items():
            print(f"part / weaver {k}: {v['best_wall']:.2f}x (best steps), {v['median_round_wall']:.2f}x (median of "
                  f"rounds, wall), {v['median_round_cpu']:.2f}x (median of rounds, CPU time)")

    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "threads": args.threads, "torch": torch.__version__,
                    "load_average": os.getloadavg()},
        "setup": {"batch_size": args.batch_size, "objects": args.objects, "min_real": args.min_real,
                  "rounds": args.rounds},
        "results": results, "bdt": bdt, "peers": peers,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
