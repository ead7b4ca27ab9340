-- expect: release.lua: no Go SDK pin: add go "1.26.8"
project { name = "x" }
build "x" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
