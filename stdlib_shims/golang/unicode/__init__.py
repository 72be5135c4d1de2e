"""Package unicode mirrors Go's package unicode: see golang.unicode.utf8."""
