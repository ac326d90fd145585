"""Template bombs measured in a fresh process: through the hardened environment each fails
with a TemplateLimitError and the process's peak RSS grows by less than 100 MB; through
Jinja's plain sandbox (the control, under an address-space cap and a timeout) each one runs
out of memory or time, so the measurement would catch a limit that stopped working."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from journeykit.foundation.settings import PROJECT_ROOT

BOMBS = [
    "{{ 'a' * 10**9 }}",
    "{{ 10**(10**10) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'ab'|indent(10**9) }}",
    "{{ ('a' * 999999)|wordwrap(1, wrapstring='x' * 1000) }}",
    "{% for i in range(10**5) %}{% for j in range(10**5) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10**4) %}{% for j in range(10**4) %}{{ 'xy' }}{% endfor %}{% endfor %}",
    "{{ (['a' * 999999] * 100000)|join }}",
    "{{ [1, 2, 3] * 10**9 }}",
    "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
    "{% set ns.l = ns.l + ['x' * 999999 ~ i] %}{% endfor %}",
]
GROWTH_LIMIT_MB = 100
CONTROL_CAP_MB = 500  # address space the plain sandbox may add before MemoryError
CONTROL_TIMEOUT_S = 4.0

# Renders each template given on the command line; prints one JSON line per template with the
# outcome and how much the peak RSS grew (MB). argv: mode (hardened|plain), cap MB, sources.
SCRIPT = r"""
import json, resource, sys
mode, cap_mb, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
from jinja2.sandbox import ImmutableSandboxedEnvironment
from journeykit.templating.sandbox import HardenedEnvironment, TemplateLimits
if mode == "hardened":
    env = HardenedEnvironment(limits=TemplateLimits())
else:
    env = ImmutableSandboxedEnvironment()
env.from_string("{% for i in range(3) %}{{ i ~ 'x' * 2 }}{% endfor %}").render()  # warm up
with open("/proc/self/status") as status:
    vm = next(int(l.split()[1]) for l in status if l.startswith("VmSize:")) * 1024
cap = vm + cap_mb * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
for source in sources:
    before = peak_mb()
    try:
        env.from_string(source).render()
        outcome = "rendered"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as exc:
        outcome = type(exc).__name__
    print(json.dumps({"source": source, "outcome": outcome, "grew_mb": peak_mb() - before}))
    sys.stdout.flush()
"""


def _command(mode: str, cap_mb: int, sources: list[str]) -> list[str]:
    return [sys.executable, "-c", SCRIPT, mode, str(cap_mb), *sources]


def test_every_bomb_fails_fast_without_growing_the_process() -> None:
    done = subprocess.run(
        _command("hardened", 1024, BOMBS),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["source"] for r in results] == BOMBS
    for result in results:
        assert result["outcome"] == "TemplateLimitError", result
        assert result["grew_mb"] < GROWTH_LIMIT_MB, result


def test_the_same_bombs_exhaust_the_plain_sandbox() -> None:
    """The control: without the limits each template runs out of memory (MemoryError under
    the cap, or killed) or out of time, so the test above measures something real."""
    running = [
        subprocess.Popen(
            _command("plain", CONTROL_CAP_MB, [source]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        for source in BOMBS
    ]
    deadline = time.monotonic() + CONTROL_TIMEOUT_S * 3  # they share two cores
    for source, process in zip(BOMBS, running, strict=True):
        try:
            out, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            continue  # out of time: a CPU bomb (or still filling memory)
        lines = out.strip().splitlines()
        if not lines:
            assert process.returncode != 0, source  # killed, or died running out of memory
            continue
        result = json.loads(lines[-1])
        exhausted = result["outcome"] == "MemoryError" or result["grew_mb"] >= GROWTH_LIMIT_MB
        assert exhausted, (source, result)


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc and RLIMIT_AS: Linux only")
