# setup.py: build the examples against an installed gpython, found with
# pkg-config (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig if it is not in a
# standard place):
#
#     python3 setup.py build_ext --inplace
#     gpython -c 'import gpyext; print(sum(gpyext.counter(10)))'
#
# cyext (Cython) is built when Cython is installed (Debian: cython3).
import shlex
import subprocess

from setuptools import Extension, setup


def pkg_config(*args):
    out = subprocess.run(["pkg-config", *args, "gpython"], check=True,
                         capture_output=True, text=True).stdout
    return shlex.split(out)


cflags = pkg_config("--cflags")
include_dirs = [f[2:] for f in cflags if f.startswith("-I")]
ext_modules = [Extension("gpyext", ["gpyext.c"], include_dirs=include_dirs)]
try:
    from Cython.Build import cythonize
except ImportError:
    pass
else:
    pxddir = pkg_config("--variable=pxddir")[0]
    ext_modules += cythonize(
        [Extension("cyext", ["cyext.pyx"], include_dirs=include_dirs)],
        include_path=[pxddir], language_level=3)

setup(name="gpython-examples", version="1.0", ext_modules=ext_modules)
