"""keep_freed_memory: fewer page faults per training step, and it leaves a user's allocator settings alone."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's mallopt only")

STEPS = r"""
import resource, sys, torch
from lfi.allocator import keep_freed_memory
torch.set_num_threads(1)
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
net = torch.nn.Sequential(torch.nn.Linear(64, 512), torch.nn.GELU(), torch.nn.LayerNorm(512), torch.nn.Linear(512, 64))
x = torch.randn(4000, 64)
def step():
    net(x).square().mean().backward()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(applied, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _run(mode: str, **env: str) -> tuple[str, float]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES", "LFI_MALLOC"))}
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True,
                          env={**environment, **env})
    applied, faults = done.stdout.split()
    return applied, float(faults)


def test_keeping_freed_memory_removes_most_page_faults_of_a_training_step():
    applied_default, faults_default = _run("default")
    applied, faults = _run("keep")
    assert applied_default == "False" and applied == "True"
    assert faults_default > 500  # glibc's defaults give fresh pages to every step (≈ 3000 measured)
    assert faults < faults_default / 4


@pytest.mark.parametrize("env", [{"LFI_MALLOC_DEFAULTS": "1"}, {"MALLOC_TRIM_THRESHOLD_": "131072"}])
def test_user_settings_win(env):
    applied, _ = _run("keep", **env)
    assert applied == "False"
