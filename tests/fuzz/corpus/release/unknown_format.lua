-- expect: release.lua:5: archive: unknown format 'tgz'
project { name = "x" }
go "1.26.8"
build "x" { targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
archive { format = "tgz" }
