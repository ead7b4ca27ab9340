-- expect: gives '../x', which is not a relative path inside dist/
project { name = "x" }
go "1.26.8"
build "x" { output = "../{binary}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
