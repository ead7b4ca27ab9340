-- expect: release.lua:5: cgo is not supported on js/wasm
project { name = "x" }
go "1.26.8"
build "x" {
  targets = matrix { goos = { "js" }, goarch = { "wasm" }, cgo = true },
}
