-- expect: release.lua:4: build 'x': output: unknown variable '{nmae}' in "{nmae}/{os}" (did you mean '{name}'?)
project { name = "x" }
go "1.26.8"
build "x" { output = "{nmae}/{os}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
