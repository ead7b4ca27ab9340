-- expect: release.lua:3: project: declared twice (first at line 2)
project { name = "x" }
project { name = "y" }
