-- expect: release.lua:5: matrix: goarm applies to goarch arm only
project { name = "x" }
go "1.26.8"
build "x" {
  targets = matrix { goos = { "linux" }, goarch = { "amd64" }, goarm = { "7" } },
}
