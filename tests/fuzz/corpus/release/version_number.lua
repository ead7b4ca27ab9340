-- expect: release.lua:2: project: 'version' must be a string, not a number (quote it: "...")
project { name = "x", version = 1.2 }
go "1.26.8"
