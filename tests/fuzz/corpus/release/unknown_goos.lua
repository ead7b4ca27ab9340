-- expect: release.lua:5: unknown goos 'linus' (did you mean 'linux'?)
project { name = "x" }
go "1.26.8"
build "x" {
  targets = matrix { goos = { "linus" }, goarch = { "amd64" } },
}
