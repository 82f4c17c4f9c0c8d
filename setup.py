"""Builds kanpaper's fused CPU kernels (``kanpaper/nn/kernels.cpp``) when the package is installed.

Everything else about the package is in ``pyproject.toml``. The kernels are compiled against the PyTorch that
is already installed, so install torch first and build without isolation (the Makefile does both):

    pip install torch==2.13.0 && pip install --no-build-isolation -e .

Two builds of the same source: ``_kernels_default`` for any x86-64 (or other) CPU, and ``_kernels_avx512``
where the compiler accepts AVX-512 (about 20% faster on CPUs that have it). ``kanpaper.nn.kernels`` picks one at
import by the CPU capability PyTorch reports, so no CPU ever runs instructions it lacks. A build that fails (no
compiler) is skipped and the install still succeeds; the layer then runs on PyTorch operations.
"""

import platform
import warnings

from setuptools import setup

VARIANTS = {"default": []}
if platform.machine().lower() in ("x86_64", "amd64"):
    VARIANTS["avx512"] = ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"]


def _reason(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[-1][:300]


def kernel_extensions():
    try:
        from torch.utils.cpp_extension import BuildExtension, CppExtension
    except ImportError:
        warnings.warn("kanpaper: torch is not importable while building, so the fused CPU kernels are not built "
                      "(the layer will run on PyTorch operations). Install torch first, then "
                      "`pip install --no-build-isolation .`")
        return {}
    extensions = [
        CppExtension(f"kanpaper.nn._kernels_{name}", ["kanpaper/nn/kernels.cpp"],
                     extra_compile_args=["-O3", "-fopenmp", *flags], extra_link_args=["-fopenmp"], optional=True)
        for name, flags in VARIANTS.items()
    ]

    class BuildVariants(BuildExtension):
        """Optional builds (the install succeeds without a compiler), one temporary directory per variant (the
        variants compile the same source with different flags)."""

        def build_extensions(self):
            try:
                super().build_extensions()
            except Exception as error:  # no usable compiler at all
                warnings.warn(f"kanpaper: skipped building the fused CPU kernels: {_reason(error)}")

        def build_extension(self, ext):
            base = self.build_temp
            self.build_temp = f"{base}/{ext.name.rsplit('.', 1)[-1]}"
            try:
                super().build_extension(ext)
            except Exception as error:  # no compiler, a compiler without AVX-512, ...
                if not ext.optional:
                    raise
                warnings.warn(f"kanpaper: skipped building {ext.name}: {_reason(error)}")
            finally:
                self.build_temp = base

    return {"ext_modules": extensions, "cmdclass": {"build_ext": BuildVariants}}


setup(**kernel_extensions())
