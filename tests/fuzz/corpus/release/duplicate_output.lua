-- expect: build 'a' linux/amd64 and build 'b' linux/amd64 both write 'bin/x'
project { name = "x" }
go "1.26.8"
build "a" { binary = "x", output = "bin/{binary}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
build "b" { binary = "x", output = "bin/{binary}", targets = matrix { goos = { "linux" }, goarch = { "amd64" } } }
