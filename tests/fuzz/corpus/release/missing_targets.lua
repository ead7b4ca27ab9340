-- expect: release.lua:4: build 'x': 'targets' is required
project { name = "x" }
go "1.26.8"
build "x" { main = "." }
