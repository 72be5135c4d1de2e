// empty: the Go reference for process start-to-exit (the startup benchmark).
package main

func main() {}
