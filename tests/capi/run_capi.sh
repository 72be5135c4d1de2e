#!/bin/sh
# run_capi.sh <gpython build dir> <source dir>: the C API as an extension
# author meets it — install gpython into a temporary prefix, build
# extensions out of tree against it (pkg-config gpython: by hand, with
# CMake, with setup.py, with Cython), run them under the installed gpython,
# and check plain python3 refuses them.
set -eu
build=$1
src=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cmake --install "$build" --prefix "$d/prefix" >/dev/null
export PKG_CONFIG_PATH="$d/prefix/lib/pkgconfig"
gp="$d/prefix/bin/gpython"
test "$(pkg-config --variable=api_version gpython)" -ge 1
test -f "$d/prefix/include/gpython/gpython.h"
test -f "$(pkg-config --variable=pxddir gpython)/gpython.pxd"

# 1. the test extension, by hand: nothing of gpython's is linked
mkdir "$d/t"
cc -shared -fPIC -O2 -Wall -Wextra -Werror $(pkg-config --cflags gpython) \
   "$src/tests/capi/capi_test.c" -o "$d/t/capi_test.so" -lpthread
if nm -D --undefined-only "$d/t/capi_test.so" | grep -q ' gpy_'; then
    echo "capi_test.so links against gpython symbols" >&2
    exit 1
fi
PYTHONPATH="$d/t" "$gp" "$src/tests/capi/test_capi.py"

# 2. the examples, with CMake and with setup.py (+ Cython)
cmake -S "$src/examples/extension" -B "$d/ex-cmake" \
      -DCMAKE_PREFIX_PATH="$d/prefix" >/dev/null
cmake --build "$d/ex-cmake" >/dev/null
PYTHONPATH="$d/ex-cmake" "$gp" -c '
import gpyext
c = gpyext.counter(100)
assert sum([c.recv() for _ in range(100)]) == 4950
assert c.recv_() == (0, False)
c = chan(dtype="C.int")
def feed():
    for i in range(10): c.send(i)
    c.close()
go(feed)
assert gpyext.total(c) == 45
assert gpyext.pingpong(1000) > 0
'
cp -r "$src/examples/extension" "$d/ex-setup"
(cd "$d/ex-setup" && /usr/bin/python3 setup.py -q build_ext --inplace \
     >/dev/null 2>&1) || {
    echo "setup.py build_ext failed:" >&2
    (cd "$d/ex-setup" && /usr/bin/python3 setup.py build_ext --inplace) >&2
    exit 1
}
PYTHONPATH="$d/ex-setup" "$gp" -c '
import gpyext, cyext, time
c = gpyext.counter(5, 2)
assert [c.recv() for _ in range(5)] == [0, 1, 2, 3, 4]
s = cyext.squares(4)
assert [s.recv() for _ in range(4)] == [0.0, 1.0, 4.0, 9.0]
assert s.recv_() == (0.0, False)
e = chan(1, dtype="C.double")
assert cyext.poll(e) is None
e.send(2.5)
assert cyext.poll(e) == (True, 2.5)
'

# 3. plain python3: a clear ImportError
out=$(PYTHONPATH="$d/t" /usr/bin/python3 -c 'import capi_test' 2>&1) && {
    echo "capi_test imported under python3" >&2
    exit 1
}
echo "$out" | grep -q "ImportError: this extension needs the gpython runtime"
echo "capi: ok"
