-- expect: release.lua:3: unknown name 'biuld'
project { name = "x" }
biuld "x" { }
