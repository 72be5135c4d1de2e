"""golang.x: pygolang's mirror of Go's golang.org/x packages (x.perf.benchlib)."""
