"""golang.cmd: pygolang's commands (pybench: py.bench)."""
