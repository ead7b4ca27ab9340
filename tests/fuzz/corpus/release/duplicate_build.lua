-- expect: release.lua:5: build 'x': a build of that name is declared already at line 4
project { name = "x" }
go "1.26.8"
build "x" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
build "x" { targets = matrix { goos = { "linux" }, goarch = { "arm64" } } }
