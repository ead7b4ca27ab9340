-- expect: release.lua:3: go: 'latest' is not a Go release version such as "1.26.8"
project { name = "x" }
go "latest"
