"""golang.x.perf: benchmark data (benchlib)."""
