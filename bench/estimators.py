"""Benchmark of the encoders: parameters, training throughput, inference latency, FLOPs, share of the GEMM rate.

Run from the repository root::

    python bench/estimators.py                       # every encoder, table on stdout, JSON to bench/estimators.json
    python bench/estimators.py --weaver /path/to/venv-0.4.17/bin/python --weaver /path/to/venv-0.5.3/bin/python

Each measurement runs in its own worker process (clean peak memory, same thread count), the cases are
measured in ``--repeats`` alternating passes and the best pass of each case is kept, because this kind of
shared CPU is noisy. Batches are random events with ``--objects`` slots of which 10 to ``--objects`` are real.

- training throughput: events/s of forward + backward (+ zeroing the gradients), batch ``--batch-size``;
- inference latency: ms per batch of ``--batch-size`` and per single event, ``torch.inference_mode``;
- FLOPs per event of forward + backward and of forward alone, by ``torch.utils.flop_counter`` with attention
  forced onto the math backend (so its matrix products are counted);
- share of the GEMM rate: FLOPs/event × events/s divided by the FLOP/s of a 2048³ float32 matrix product
  measured in the same run (best of the runs before and after the cases), the practical limit of the machine.

The peers are weaver-core's ParticleTransformer, imported by a worker that runs under the Python of an
environment where ``weaver-core`` is installed (``--weaver``, repeatable); nothing of weaver is vendored here.
They get the same hyper-parameters (``trim=False``, dropout 0 like ours, ParT's four pair features) and
precomputed per-object features, as their data loader would give them.
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
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PART_DEFAULT = dict(embed_dims=[128, 512, 128], pair_embed_dims=[64, 64, 64], num_heads=8, num_layers=8,
                    num_cls_layers=2)
PART_SMALL = dict(embed_dims=[64, 64, 64], pair_embed_dims=[32, 32, 32], num_heads=8, num_layers=8, num_cls_layers=2)
PART_PAIR = "ln_kt,ln_z,ln_delta,ln_m2"


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
    return cases


def weaver_cases(python: str) -> list[dict]:
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('weaver-core'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return [{"label": f"weaver {version} ParT-{size}", "impl": "weaver", "python": python, "version": version,
             "config": cfg} for size, cfg in (("default", PART_DEFAULT), ("small", PART_SMALL))]


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
    from estimators.features import InputScaler
    from weaver.nn.model.ParticleTransformer import ParticleTransformer

    cfg = dict(case["config"])
    zero = dict(dropout=0.0, attn_dropout=0.0, activation_dropout=0.0)
    model = ParticleTransformer(input_dim=12, num_classes=2, fc_params=None, pair_input_dim=4, trim=False,
                                block_params=zero, cls_block_params=zero, **cfg)
    scaler = InputScaler(n_globals=globals_.shape[1])
    scaler.fit_input_scaling(momenta, types, globals_)
    x = scaler.objects(momenta, types).transpose(1, 2).contiguous()  # (B, 12, P)
    v = momenta[..., [1, 2, 3, 0]].transpose(1, 2).contiguous()  # (B, 4, P): px, py, pz, E
    mask = (types != 0).unsqueeze(1)
    return model, lambda n: model(x[:n], v[:n], mask[:n])


def _timed(fn, steps: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)


def run_worker(case: dict, args: argparse.Namespace) -> dict:
    """Measure one case in this process; returns a JSON-able dict."""
    import warnings

    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b = args.batch_size
    momenta, types, globals_ = random_events(b, args.objects, args.min_real)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model, forward = _build(case, momenta, types, globals_)
    model.train()

    def train_step():
        forward(b).float().square().mean().backward()
        model.zero_grad(set_to_none=True)

    train = _timed(train_step, args.steps)
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    model.eval()
    with torch.inference_mode():
        infer = _timed(lambda: forward(b), args.steps)
        single = _timed(lambda: forward(1), 3 * args.steps)
    model.train()
    with sdpa_kernel(SDPBackend.MATH):
        with FlopCounterMode(display=False) as counter:
            forward(b).float().square().mean().backward()
        model.zero_grad(set_to_none=True)
        with torch.no_grad(), FlopCounterMode(display=False) as counter_fwd:
            forward(b)
    return {
        "label": case["label"], "impl": case["impl"], "config": case.get("config", {}),
        "encoder": case.get("encoder", "weaver ParticleTransformer"), "version": case.get("version"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_events_per_s_best": b / train[0], "train_events_per_s_median": b / train[len(train) // 2],
        "infer_ms_per_batch_best": 1e3 * infer[0], "infer_ms_per_event_single_best": 1e3 * single[0],
        "flops_per_event_train": counter.get_total_flops() / b, "flops_per_event_forward": counter_fwd.get_total_flops() / b,
        "train_peak_rss_increase_mb": peak_mb,
    }


# --------------------------------------------------------------------------------------------------
# orchestrator
# --------------------------------------------------------------------------------------------------
def gemm_flops(threads: int, n: int = 2048, repeats: int = 7) -> float:
    """Best FLOP/s of an n × n × n float32 matrix product."""
    torch.set_num_threads(threads)
    a, c = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, c)
    return 2 * n**3 / _timed(lambda: torch.mm(a, c), repeats, warmup=1)[0]


def measure(case: dict, args: argparse.Namespace) -> dict:
    python = case.get("python", sys.executable)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [python, str(Path(__file__).resolve()), "--worker", json.dumps(case), "--threads", str(args.threads),
            "--batch-size", str(args.batch_size), "--objects", str(args.objects), "--min-real", str(args.min_real),
            "--steps", str(args.steps)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode:
        return {"label": case["label"], "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[-1]
    best = max(ok, key=lambda r: r["train_events_per_s_best"])
    best = dict(best)
    best["infer_ms_per_batch_best"] = min(r["infer_ms_per_batch_best"] for r in ok)
    best["infer_ms_per_event_single_best"] = min(r["infer_ms_per_event_single_best"] for r in ok)
    best["train_events_per_s_all_passes"] = [round(r["train_events_per_s_best"], 1) for r in ok]
    return best


def table(results: list[dict], gemm: float) -> str:
    head = (f"{'model':34s} {'params':>10s} {'train ev/s':>11s} {'infer ms/256':>12s} {'ms/event(1)':>11s} "
            f"{'MFLOP/ev f+b':>12s} {'% GEMM':>7s} {'peak MB':>8s}")
    lines = [head, "-" * len(head)]
    for r in results:
        if "error" in r:
            lines.append(f"{r['label']:34s} error: {r['error']}")
            continue
        share = 100 * r["flops_per_event_train"] * r["train_events_per_s_best"] / gemm
        lines.append(f"{r['label']:34s} {r['parameters']:10,d} {r['train_events_per_s_best']:11.0f} "
                     f"{r['infer_ms_per_batch_best']:12.1f} {r['infer_ms_per_event_single_best']:11.2f} "
                     f"{r['flops_per_event_train'] / 1e6:12.1f} {share:7.1f} {r['train_peak_rss_increase_mb']:8.0f}")
    return "\n".join(lines)


def ratios(results: list[dict]) -> dict[str, float]:
    """Training-throughput ratios of our ParT to each weaver peer at the same configuration."""
    by_label = {r["label"]: r for r in results if "error" not in r}
    out = {}
    for r in by_label.values():
        if r["impl"] != "weaver":
            continue
        size = r["label"].rsplit("ParT-", 1)[1]
        ours = by_label.get(f"part ParT-{size}")
        if ours:
            out[f"part / weaver {r['version']} (ParT-{size})"] = (ours["train_events_per_s_best"]
                                                                 / r["train_events_per_s_best"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weaver", action="append", default=[], metavar="PYTHON",
                   help="Python of an environment with weaver-core installed (repeatable)")
    p.add_argument("--only", nargs="*", help="labels of the cases to run (default: all)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--objects", type=int, default=18)
    p.add_argument("--min-real", type=int, default=10)
    p.add_argument("--steps", type=int, default=6, help="timed steps per measurement")
    p.add_argument("--repeats", type=int, default=2, help="alternating passes over all cases")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "estimators.json")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(json.loads(args.worker), args)))
        return 0

    cases = default_cases() + [c for py in args.weaver for c in weaver_cases(py)]
    if args.only:
        cases = [c for c in cases if c["label"] in args.only]
    gemm = [gemm_flops(args.threads)]
    runs: dict[str, list[dict]] = {c["label"]: [] for c in cases}
    for rep in range(args.repeats):
        for case in cases:
            runs[case["label"]].append(measure(case, args))
            print(f"pass {rep + 1}/{args.repeats} {case['label']}: "
                  f"{runs[case['label']][-1].get('train_events_per_s_best', float('nan')):.0f} ev/s", file=sys.stderr)
    gemm.append(gemm_flops(args.threads))
    results = [best_of(runs[c["label"]]) for c in cases]
    g = max(gemm)
    for r in results:
        if "error" not in r:
            r["gemm_share_train"] = r["flops_per_event_train"] * r["train_events_per_s_best"] / g
    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "threads": args.threads, "torch": torch.__version__},
        "setup": {"batch_size": args.batch_size, "objects": args.objects, "min_real": args.min_real,
                  "steps": args.steps, "repeats": args.repeats},
        "gemm_flops_per_s": g, "gemm_flops_per_s_runs": gemm, "results": results, "ratios": ratios(results),
    }
    print(f"GEMM 2048³ float32: {g / 1e9:.1f} GFLOP/s on {args.threads} threads ({report['machine']['processor']})")
    print(table(results, g))
    for k, v in report["ratios"].items():
        print(f"{k}: {v:.2f}×")
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
