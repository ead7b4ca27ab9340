-- expect: release.lua:4: build 'x': unknown key 'ldflag' (did you mean 'ldflags'?)
project { name = "x" }
go "1.26.8"
build "x" {
  ldflag = { "-s" },
  targets = matrix { goos = { "linux" }, goarch = { "amd64" } },
}
