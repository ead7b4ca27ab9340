-- expect: release.lua:4: build 'x': 'ldflags' must be a list of strings, not a number
project { name = "x" }
go "1.26.8"
build "x" {
  ldflags = 42,
  targets = matrix { goos = { "linux" }, goarch = { "amd64" } },
}
