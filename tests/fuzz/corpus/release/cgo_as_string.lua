-- expect: release.lua:5: matrix: 'cgo' takes true, false or { false, true }, not strings
project { name = "x" }
go "1.26.8"
build "x" {
  targets = matrix { goos = { "linux" }, goarch = { "amd64" }, cgo = "yes" },
}
