// Package duckdbtest checks, with DuckDB, the files package stacparquet
// writes. It is a module of its own so that the stacq module never
// requires DuckDB (a cgo library): `go install` of stacq does not fetch
// it, and `go test ./...` at the root does not enter here.
package duckdbtest
