-- expect: release.lua:5: matrix: unknown key 'gorm' (did you mean 'goarm'?)
project { name = "x" }
go "1.26.8"
build "x" {
  targets = matrix { goos = { "linux" }, goarch = { "arm" }, gorm = { "7" } },
}
