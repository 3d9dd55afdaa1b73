"""sim/jit.py: the kernels' disk cache is keyed on every kernel module and on the flags."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from sim import jit


def test_salt_follows_every_file(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    before = jit.source_salt([a, b])
    assert jit.source_salt([a, b]) == before
    b.write_text("y = 3\n")  # a helper module edited: every key changes
    assert jit.source_salt([a, b]) != before


def test_cache_key_carries_the_salt():
    from nets._kernels.vecmath import sigmoid
    assert sigmoid(0.0) == 0.5
    cache = sigmoid._cache
    assert isinstance(cache, jit._SaltedCache)
    key = cache._index_key(sigmoid.signatures[0], sigmoid.targetctx.codegen())
    assert key[-1] == jit.CACHE_SALT
    assert jit.CACHE_SALT == jit.source_salt([jit._HERE, *sorted((jit._HERE.parents[1] / "nets" / "_kernels").glob("*.py"))])


def test_fma_kernel_contracts_but_does_not_reassociate():
    @jit.fma_kernel
    def total(a):
        s = 0.0
        for v in a:
            s += v
        return s
    a = np.array([1e16, 1.0, -1e16, 1.0])
    assert total(a) == ((1e16 + 1.0) - 1e16) + 1.0  # left to right, as written

    @jit.fma_kernel
    def muladd(a, b, c):
        return a * b + c
    a, b = 1.0 + 2.0 ** -30, 1.0 - 2.0 ** -30  # a b = 1 - 2^-60 exactly; rounded: 1
    assert a * b - 1.0 == 0.0
    assert muladd(a, b, -1.0) == -2.0 ** -60  # one rounding: a fused multiply-add


def test_second_process_loads_from_the_disk_cache(tmp_path):
    mod = tmp_path / "kmod.py"
    mod.write_text(textwrap.dedent("""
        from sim.jit import vector_kernel

        @vector_kernel
        def axpy(a, x, y):
            for i in range(x.shape[0]):
                y[i] = a * x[i] + y[i]
    """))
    script = textwrap.dedent("""
        import numpy as np, kmod
        y = np.ones(4)
        kmod.axpy(2.0, np.arange(4.0), y)
        assert list(y) == [1.0, 3.0, 5.0, 7.0]
        print(kmod.axpy.stats.cache_hits.get(kmod.axpy.signatures[0], 0))
    """)
    env_path = f"{tmp_path}{':'}{jit._HERE.parents[1]}"
    run = [sys.executable, "-c", script]
    hits = [subprocess.run(run, capture_output=True, text=True, check=True, cwd=tmp_path,
                           env={"PYTHONPATH": env_path, "PATH": ""}).stdout.strip() for _ in range(2)]
    assert hits == ["0", "1"]


def test_vector_kernel_rounds_twice():
    @jit.vector_kernel
    def muladd(a, b, c):
        return a * b + c
    assert muladd(1.0 + 2.0 ** -30, 1.0 - 2.0 ** -30, -1.0) == 0.0  # as numpy: bit-exact twins
