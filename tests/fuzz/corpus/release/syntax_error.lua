-- expect: release.lua:4: '}' expected (to close '{' at line 2) near 'go'
project { name = "x",
  version = "1.0"
go "1.26.8"
